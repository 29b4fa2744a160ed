using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace SourceGenDO.Tests.Shared;

/// <summary>
/// The test objects' server (tests/ServerHost) as a child process: for tests that measure the server's
/// own memory, push it to the limits of its process (an open-file limit through prlimit), or kill it
/// with SIGKILL, as a crash would, and start another over the same data directory.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    // Enough of the server's output to say why it died; older lines are dropped.
    private const int KeptOutputLines = 200;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private ServerProcess(Process process, ConcurrentQueue<string> output, int port)
    {
        _process = process;
        _output = output;
        Address = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Address { get; }

    public int Port => Address.Port;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the server wrote to its standard output and error, for a failure message.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>The exit code and the process's output, for a test that found it dead.</summary>
    public string DescribeExit() =>
        _process.HasExited ? $"exit code {_process.ExitCode}; output: {Output}" : "still running";

    /// <summary>Starts a server over <paramref name="dataDirectory"/>, which outlives it, and returns once it listens.</summary>
    public static Task<ServerProcess> StartOverAsync(string dataDirectory) => StartAsync(null, "--data-directory", dataDirectory);

    /// <summary>
    /// Starts the server, with at most <paramref name="openFiles"/> open files when given (soft and hard
    /// limit, through prlimit), and returns once it listens.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(int? openFiles = null, params string[] arguments)
    {
        var info = new ProcessStartInfo(openFiles is null ? "dotnet" : "prlimit")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (openFiles is { } limit)
        {
            info.ArgumentList.Add($"--nofile={limit}:{limit}");
            info.ArgumentList.Add("dotnet");
        }
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SourceGenDO.ServerHost.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var output = new ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, line) => Keep(line.Data, isOutput: true);
        process.ErrorDataReceived += (_, line) => Keep(line.Data, isOutput: false);
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The server process exited before it listened."));
        process.EnableRaisingEvents = true;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return new ServerProcess(process, output, port);
        }
        catch (Exception failure)
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw new InvalidOperationException($"The server process did not start: {failure.Message} Output:{Environment.NewLine}{string.Join(Environment.NewLine, output)}", failure);
        }

        void Keep(string? line, bool isOutput)
        {
            if (line is null)
            {
                return;
            }
            if (isOutput && line.StartsWith("listening ", StringComparison.Ordinal))
            {
                listening.TrySetResult(int.Parse(line["listening ".Length..], CultureInfo.InvariantCulture));
            }
            output.Enqueue(line);
            while (output.Count > KeptOutputLines && output.TryDequeue(out _))
            {
            }
        }
    }

    public Task<DurableObjectClient> ConnectAsync() => DurableObjectClient.ConnectAsync(Address);

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
            long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>How many files (sockets included) the process has open now (Linux).</summary>
    public int OpenFiles() => Directory.GetFileSystemEntries($"/proc/{_process.Id}/fd").Length;

    /// <summary>Kills the server with SIGKILL (no shutdown code runs) and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // Closing standard input asks the server to stop; a server that hangs is killed.
            _process.StandardInput.Close();
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }
}
