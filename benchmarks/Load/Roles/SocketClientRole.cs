using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace SourceGenDO.Load.Roles;

/// <summary>
/// The client of the socket memory benchmark: opens <c>--sockets</c> WebSockets spread over <c>--rooms</c>
/// rooms (a few at a time), sends one message on each and reads the answer, so that every room has had an
/// instance; prints "CONNECTED n" and keeps the sockets open and idle until standard input closes, then
/// checks that every socket is still open and prints "STILL-OPEN n".
/// </summary>
internal static class SocketClientRole
{
    public static async Task RunAsync(Arguments arguments)
    {
        var port = arguments.GetInt("port", 0);
        var count = arguments.GetInt("sockets", 10_000);
        var rooms = arguments.GetInt("rooms", 1_000);
        var parallel = arguments.GetInt("parallel", 32);
        var sockets = new ClientWebSocket[count];
        using var gate = new SemaphoreSlim(parallel);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var socket = new ClientWebSocket();
                // No client pings: the sockets stay idle; the server's pings are answered by the runtime.
                socket.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
                await socket.ConnectAsync(new Uri(string.Create(CultureInfo.InvariantCulture, $"ws://127.0.0.1:{port}/rooms/room-{i % rooms}?u{i}")), CancellationToken.None);
                await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                var buffer = new byte[256];
                var answer = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (answer.MessageType != WebSocketMessageType.Text || !Encoding.UTF8.GetString(buffer, 0, answer.Count).StartsWith($"u{i} in a room of ", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"Socket {i} got an unexpected answer.");
                }
                sockets[i] = socket;
            }
            finally
            {
                gate.Release();
            }
        }));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CONNECTED {count}"));
        Console.Out.Flush();
        await Task.Run(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STILL-OPEN {sockets.Count(static s => s.State == WebSocketState.Open)}"));
        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }
    }
}
