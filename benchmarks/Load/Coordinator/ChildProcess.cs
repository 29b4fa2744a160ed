using System.Diagnostics;

namespace SourceGenDO.Load.Coordinator;

/// <summary>A role running as its own process, talked to through standard input and output.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    // The last lines of standard output kept for the result and for error messages: a role that logs a
    // flood (the soak's server under attack) must not grow the coordinator without bound.
    private const int KeptLines = 1000;

    private readonly Process _process;
    private readonly Queue<string> _lines = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TimeSpan _lastProcessorTime;

    private ChildProcess(Process process, string label, Action<string>? onOutputLine)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            onOutputLine?.Invoke(e.Data);
            lock (_lines)
            {
                if (_lines.Count == KeptLines)
                {
                    _lines.Dequeue();
                }
                _lines.Enqueue(e.Data);
            }
            if (e.Data == "READY")
            {
                _ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"  [{label} {process.Id}] {e.Data}");
            }
        };
    }

    public int Id => _process.Id;

    public DateTimeOffset StartedAt { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Whether <see cref="DisposeAsync"/> or <see cref="Kill"/> had to kill the process.</summary>
    public bool WasKilled { get; private set; }

    public static ChildProcess Start(string dll, params string[] arguments) => Start(dll, null, [], arguments);

    /// <summary>
    /// Starts <paramref name="dll"/>; <paramref name="onOutputLine"/> sees every line it prints, on a thread of
    /// its own. A non-empty <paramref name="launcher"/> runs it through that command (for example
    /// <c>nice -n 10</c>, <c>prlimit --nofile=1024</c>), so that the whole process has those settings.
    /// </summary>
    public static ChildProcess Start(string dll, Action<string>? onOutputLine, IReadOnlyList<string> launcher, params string[] arguments)
    {
        var info = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // In its own directory, as a deployed service runs: that directory is its content root, which
            // the host's configuration watches with every subdirectory. From the repository's root the
            // durable benchmark's data directory lay inside that watch, and every commit woke the watcher.
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(dll)),
        };
        if (launcher.Count > 0)
        {
            foreach (var part in launcher.Skip(1))
            {
                info.ArgumentList.Add(part);
            }
            info.ArgumentList.Add("dotnet");
        }
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process, Path.GetFileNameWithoutExtension(dll), onOutputLine);
        child.StartedAt = DateTimeOffset.UtcNow;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for the role to print READY.</summary>
    public Task WaitReadyAsync(TimeSpan timeout) => _ready.Task.WaitAsync(timeout);

    /// <summary>The resident memory of the process, in bytes.</summary>
    public long ResidentBytes()
    {
        _process.Refresh();
        return _process.HasExited ? 0 : _process.WorkingSet64;
    }

    /// <summary>The CPU time the process has used so far; once it has exited, the last that was read.</summary>
    public TimeSpan ProcessorTime()
    {
        try
        {
            if (!_process.HasExited)
            {
                _lastProcessorTime = _process.TotalProcessorTime;
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the read.
        }
        return _lastProcessorTime;
    }

    /// <summary>Writes one line to the role's standard input.</summary>
    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the process to exit and returns its last JSON line.</summary>
    public async Task<ScenarioResult> ResultAsync(TimeSpan timeout) => ScenarioResult.Parse(await JsonResultAsync(timeout))!;

    /// <summary>Waits for the process to exit with 0 and returns the last line it printed that starts with '{'.</summary>
    public async Task<string> JsonResultAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        _process.WaitForExit();
        string? json;
        lock (_lines)
        {
            json = _lines.LastOrDefault(line => line.StartsWith('{'));
        }
        if (_process.ExitCode != 0 || json is null)
        {
            string printed;
            lock (_lines)
            {
                printed = string.Join(" | ", _lines.TakeLast(20));
            }
            throw new InvalidOperationException($"The role exited with {_process.ExitCode} and printed: {printed}");
        }
        return json;
    }

    /// <summary>Kills the process and everything it started.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                WasKilled = true;
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process.HasExited)
        {
            _process.Dispose();
            return;
        }
        try
        {
            _process.StandardInput.Close();
            using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (Exception)
        {
            Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
