using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace SourceGenDO.EndToEnd.Tests.Durability;

/// <summary>
/// The test objects' server (tests/ServerHost) as a child process over a data directory that outlives
/// it: a test kills it with SIGKILL, as a crash would, and starts another over the same directory.
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

    /// <summary>The last lines the server wrote to its standard output and error, for a failure message.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts a server over <paramref name="dataDirectory"/> and returns once it listens.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SourceGenDO.ServerHost.dll"));
        info.ArgumentList.Add("--data-directory");
        info.ArgumentList.Add(dataDirectory);
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
