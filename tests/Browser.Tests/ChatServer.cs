using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace SourceGenDO.Browser.Tests;

/// <summary>
/// The chat sample as a child process, started as `dotnet run --project samples/Chat` starts it (the same
/// program, from the test's output folder), on any free loopback port, over a fresh data directory that
/// is deleted on dispose.
/// </summary>
internal sealed class ChatServer : IAsyncDisposable
{
    // Enough of the server's output to say why it failed; older lines are dropped.
    private const int KeptOutputLines = 500;
    private const string ListeningLine = "Chat server listening on ";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly string _dataDirectory;

    private ChatServer(Process process, string dataDirectory)
    {
        _process = process;
        _dataDirectory = dataDirectory;
    }

    /// <summary>The page's address, as the server printed it (http://127.0.0.1:port/).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The last lines the server wrote, for failure messages and for its log lines.</summary>
    public IReadOnlyList<string> Output => [.. _output];

    /// <summary>How many times room <paramref name="room"/>'s instance was constructed, from the sample's log.</summary>
    public int InstancesOf(string room) => _output.Count(line => line.Contains($"Room {room} is live", StringComparison.Ordinal));

    /// <summary>Starts the server, with rooms hibernating after <paramref name="idleTimeout"/>, and returns once it prints its address.</summary>
    public static async Task<ChatServer> StartAsync(TimeSpan idleTimeout)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-chat-tests", Guid.NewGuid().ToString("n"));
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Chat.dll"),
            "--port", "0",
            "--data-directory", dataDirectory,
            "--idle-timeout", idleTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        })
        {
            info.ArgumentList.Add(argument);
        }

        var server = new ChatServer(Process.Start(info)!, dataDirectory);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }
            server._output.Enqueue(line);
            while (server._output.Count > KeptOutputLines && server._output.TryDequeue(out _))
            {
            }
            if (line.StartsWith(ListeningLine, StringComparison.Ordinal))
            {
                listening.TrySetResult(new Uri(line[ListeningLine.Length..].Split(' ')[0]));
            }
        }
        server._process.OutputDataReceived += (_, e) => Keep(e.Data);
        server._process.ErrorDataReceived += (_, e) => Keep(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();

        var exited = server._process.WaitForExitAsync();
        var started = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (started != listening.Task)
        {
            var why = exited.IsCompleted ? $"exited with code {server._process.ExitCode}" : "did not print its address within 60 s";
            var output = string.Join(Environment.NewLine, server.Output);
            await server.DisposeAsync();
            throw new InvalidOperationException($"The chat server {why}. Its output:{Environment.NewLine}{output}");
        }
        server.Address = listening.Task.Result;
        return server;
    }

    /// <summary>The server's output, to end a failure message with.</summary>
    public string Describe() => $"Chat server output:{Environment.NewLine}{string.Join(Environment.NewLine, Output)}";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
