using System.Diagnostics;

namespace SourceGenDO.Server.Tests;

/// <summary>
/// The test objects' server (tests/ServerHost) as a child process, optionally under an open-file limit:
/// for tests that measure the server's own memory or push it to the limits of its process.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _output;

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Address = new Uri($"http://127.0.0.1:{port}");
        _output = process.StandardOutput.ReadToEndAsync();
    }

    public Uri Address { get; }

    public int Port => Address.Port;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code and the process's output, for a test that found it dead.</summary>
    public string DescribeExit() =>
        _process.HasExited ? $"exit code {_process.ExitCode}; output: {(_output.IsCompleted ? _output.Result : "")}" : "still running";

    /// <summary>
    /// Starts the server, with at most <paramref name="openFiles"/> open files when given (soft and hard
    /// limit, through prlimit), and returns once it listens.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(int? openFiles = null, params string[] arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "SourceGenDO.ServerHost.dll");
        var info = new ProcessStartInfo(openFiles is null ? "dotnet" : "prlimit")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        if (openFiles is { } limit)
        {
            info.ArgumentList.Add($"--nofile={limit}:{limit}");
            info.ArgumentList.Add("dotnet");
        }
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("The server process did not start.");
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"The server process did not start: \"{line}\".");
        }
        return new ServerProcess(process, int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The process's resident memory now and at its peak, from /proc (Linux).</summary>
    public (long Current, long Peak) ResidentBytes()
    {
        long current = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                current = Kilobytes(line) * 1024;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line) * 1024;
            }
        }
        return (current, peak);

        static long Kilobytes(string line) =>
            long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>How many files (sockets included) the process has open now (Linux).</summary>
    public int OpenFiles() => Directory.GetFileSystemEntries($"/proc/{_process.Id}/fd").Length;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // Closing standard input asks the server to stop; a server that hangs is killed.
            _process.StandardInput.Close();
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }
}
