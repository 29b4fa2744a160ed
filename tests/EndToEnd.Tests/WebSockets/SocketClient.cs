using System.Net.WebSockets;
using System.Text;

namespace SourceGenDO.EndToEnd.Tests.WebSockets;

/// <summary>A .NET <see cref="ClientWebSocket"/> to a route of the test server, reading whole text messages.</summary>
internal sealed class SocketClient : IAsyncDisposable
{
    // A bound on waits that would otherwise hang a broken build; no test relies on its length.
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private SocketClient(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    /// <summary>The close frame's code once <see cref="ReceiveAsync"/> met it.</summary>
    public WebSocketCloseStatus? CloseStatus => Socket.CloseStatus;

    public static Uri RoomUri(RunningServer server, string room, string query = "") =>
        new($"ws://127.0.0.1:{server.HttpAddress.Port}/rooms/{Uri.EscapeDataString(room)}/socket{(query.Length == 0 ? "" : "?" + query)}");

    public static async Task<SocketClient> ConnectAsync(RunningServer server, string room, string query = "")
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(RoomUri(server, room, query), timeout.Token);
        return new SocketClient(socket);
    }

    public Task SendAsync(string text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>The next whole text message, or null when the server closed (see <see cref="CloseStatus"/>).</summary>
    public async Task<string?> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.ToArray());
            }
        }
    }

    /// <summary>Sends <paramref name="text"/> and returns the next message.</summary>
    public async Task<string?> AskAsync(string text)
    {
        await SendAsync(text);
        return await ReceiveAsync();
    }

    /// <summary>Reads messages until one starts with <paramref name="prefix"/>, skipping others.</summary>
    public async Task<string> ReceiveStartingWithAsync(string prefix)
    {
        while (true)
        {
            var message = await ReceiveAsync() ?? throw new InvalidOperationException($"The socket closed ({CloseStatus}) before a message starting with \"{prefix}\" arrived.");
            if (message.StartsWith(prefix, StringComparison.Ordinal))
            {
                return message;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }
        Socket.Dispose();
    }
}
