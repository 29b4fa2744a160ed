using System.Diagnostics;

namespace SourceGenDO.Load.Coordinator;

/// <summary>A role running as its own process, talked to through standard input and output.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (_lines)
            {
                _lines.Add(e.Data);
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
                Console.Error.WriteLine($"  [{Path.GetFileNameWithoutExtension(process.StartInfo.ArgumentList[0])} {process.Id}] {e.Data}");
            }
        };
    }

    public int Id => _process.Id;

    public DateTimeOffset StartedAt { get; private set; }

    public static ChildProcess Start(string dll, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process);
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

    /// <summary>Waits for the process to exit and returns its last JSON line.</summary>
    public async Task<ScenarioResult> ResultAsync(TimeSpan timeout)
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
            throw new InvalidOperationException($"The client exited with {_process.ExitCode} and printed: {string.Join(" | ", _lines)}");
        }
        return ScenarioResult.Parse(json)!;
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
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
