using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SourceGenDO.Packaging.Tests;

/// <summary>What a finished command left: its exit code and its standard output and error, interleaved as they came.</summary>
internal sealed record CommandResult(string CommandLine, int ExitCode, string Output)
{
    /// <summary>Fails the test with the command's output unless it exited with 0.</summary>
    public CommandResult EnsureSucceeded()
    {
        Assert.True(ExitCode == 0, $"`{CommandLine}` exited with {ExitCode}:{Environment.NewLine}{Output}");
        return this;
    }
}

/// <summary>
/// A program run as a child process with its output captured: to completion (<see cref="RunAsync"/>), or
/// as a server that prints a line once it listens and stops on SIGTERM (<see cref="Start"/>).
/// </summary>
internal sealed class Command : IDisposable
{
    private const int SigTerm = 15;
    // A build's or a server's output is kept for its checks and failure messages, up to this many lines (older ones are dropped).
    private const int KeptOutputLines = 20_000;

    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly List<(string Prefix, TaskCompletionSource<string> Line)> _awaitedLines = [];

    private Command(ProcessStartInfo info)
    {
        CommandLine = $"{info.FileName} {string.Join(' ', info.ArgumentList)}";
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, line) => Keep(line.Data);
        _process.ErrorDataReceived += (_, line) => Keep(line.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string CommandLine { get; }

    /// <summary>Everything the program wrote so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output);
            }
        }
    }

    /// <summary>
    /// The dotnet CLI, with no MSBuild variables of the test host's own build and, unless given, no
    /// NUGET_PACKAGES (a project's nuget.config decides where its packages go).
    /// </summary>
    public static ProcessStartInfo Dotnet(string workingDirectory, params string[] arguments)
    {
        var info = Program("dotnet", workingDirectory, arguments);
        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || name == "NUGET_PACKAGES")
            {
                info.Environment.Remove(name);
            }
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        return info;
    }

    public static ProcessStartInfo Program(string fileName, string workingDirectory, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        return info;
    }

    /// <summary>Runs the program to its end; one that runs past <paramref name="timeout"/> is killed and fails the test.</summary>
    public static async Task<CommandResult> RunAsync(ProcessStartInfo info, TimeSpan timeout)
    {
        using var command = new Command(info);
        var exitCode = await command.WaitForExitAsync(timeout);
        return new CommandResult(command.CommandLine, exitCode, command.Output);
    }

    /// <summary>Starts a long-running program (a server); stop it with <see cref="StopAsync"/>.</summary>
    public static Command Start(ProcessStartInfo info) => new(info);

    /// <summary>The first line the program writes that starts with <paramref name="prefix"/>, without the prefix.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var line = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.FirstOrDefault(kept => kept.StartsWith(prefix, StringComparison.Ordinal)) is { } seen)
            {
                return seen[prefix.Length..];
            }
            _awaitedLines.Add((prefix, line));
        }
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(line.Task, exited, Task.Delay(timeout));
        if (first != line.Task)
        {
            var why = first == exited ? $"exited with {_process.ExitCode}" : $"did not write it within {timeout.TotalSeconds:0} s";
            Assert.Fail($"`{CommandLine}` {why} before a line starting \"{prefix}\". Output:{Environment.NewLine}{Output}");
        }
        return await line.Task;
    }

    /// <summary>Asks the program to stop as a service manager would (SIGTERM) and returns its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited && kill(_process.Id, SigTerm) != 0)
        {
            Assert.Fail($"kill({_process.Id}, SIGTERM) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
        return await WaitForExitAsync(timeout);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }

    private async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            // Also waits until its output is read to the end.
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"`{CommandLine}` did not finish within {timeout.TotalSeconds:0} s and was killed. Output:{Environment.NewLine}{Output}");
        }
        return _process.ExitCode;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.Add(line);
            if (_output.Count > KeptOutputLines)
            {
                _output.RemoveRange(0, _output.Count - KeptOutputLines);
            }
            foreach (var awaited in _awaitedLines.Where(awaited => line.StartsWith(awaited.Prefix, StringComparison.Ordinal)).ToList())
            {
                awaited.Line.TrySetResult(line[awaited.Prefix.Length..]);
                _awaitedLines.Remove(awaited);
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // A test's one call to kill(2): DllImport needs no source generation.
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
