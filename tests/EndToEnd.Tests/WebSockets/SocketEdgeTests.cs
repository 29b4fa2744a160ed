using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.EndToEnd.Tests.WebSockets;

/// <summary>
/// The edges of routes and sockets a hostile review found: slow handlers and keep-alive, final events at
/// the queue bound, the socket table's size, malformed requests, oversized sends, closes the object
/// started, upgrades that never complete, the per-object socket cap, shutdown and client aborts.
/// </summary>
public sealed class SocketEdgeTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private DurableObjectClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(options =>
        {
            options.IdleTimeout = TimeSpan.FromMilliseconds(200);
            // Short, so that the tests see keep-alive and close timeouts without waiting a minute.
            options.WebSocketKeepAliveInterval = TimeSpan.FromMilliseconds(200);
            options.WebSocketKeepAliveTimeout = TimeSpan.FromMilliseconds(500);
            options.WebSocketCloseTimeout = TimeSpan.FromMilliseconds(500);
            options.MaxWebSocketsPerObject = 3;
        });
        _client = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private NamespaceHost Namespace(string name) => _server.App.Services.GetRequiredService<DurableObjectHost>().Namespaces.Single(ns => ns.Name == name);

    private NamespaceHost Rooms => Namespace("SOCKET_ROOMS");

    private SocketRoomStub Room(string room) => _client.GetNamespace<SocketRoomStub>("SOCKET_ROOMS").GetByName(room);

    private static async Task<ClientWebSocket> ConnectSlowAsync(RunningServer server, string room, string key)
    {
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(SocketClient.Patience);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{server.HttpAddress.Port}/slow/{room}/ws?key={key}"), timeout.Token);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    private static async Task<string> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[1024];
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(SocketClient.Patience);
        return result.MessageType == WebSocketMessageType.Close ? "closed" : Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    private async Task<string> RawAsync(string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _server.HttpAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        // Every request here asks the server to close the connection after answering.
        return await reader.ReadToEndAsync().WaitAsync(SocketClient.Patience);
    }

    [Fact]
    public async Task AHandlerSlowerThanTheKeepAliveTimeoutKeepsItsSocket()
    {
        var key = Guid.NewGuid().ToString("n");
        using var socket = await ConnectSlowAsync(_server, ServerFixture.UniqueName("slow"), key);
        await SendAsync(socket, "hold:" + key);
        Assert.Equal("holding", await ReceiveAsync(socket));
        // The client reads (so it answers pings) while the handler holds for many keep-alive timeouts.
        var next = ReceiveAsync(socket);
        await Task.Delay(TimeSpan.FromSeconds(3));
        SlowSocketRoom.Release(key);
        Assert.Equal("done:hold:" + key, await next);
    }

    [Fact]
    public async Task ACloseArrivingWhileTheObjectIsAtItsQueueBoundIsStillDelivered()
    {
        await using var server = await RunningServer.StartAsync(options => options.MaxQueuedEventsPerObject = 2);
        var room = ServerFixture.UniqueName("slow");
        var key = Guid.NewGuid().ToString("n");
        using var a = await ConnectSlowAsync(server, room, key);
        using var b = await ConnectSlowAsync(server, room, key);
        using var c = await ConnectSlowAsync(server, room, key);
        await SendAsync(a, "hold:" + key);
        Assert.Equal("holding", await ReceiveAsync(a));
        await SendAsync(b, "hold:" + key);
        Assert.Equal("holding", await ReceiveAsync(b));
        // Two events in flight, the object's bound: c's close arrives now.
        await c.CloseAsync(WebSocketCloseStatus.NormalClosure, "c leaves", CancellationToken.None).WaitAsync(SocketClient.Patience);
        SlowSocketRoom.Release(key);
        Assert.Equal("done:hold:" + key, await ReceiveAsync(a));
        Assert.Equal("done:hold:" + key, await ReceiveAsync(b));
        await Eventually.True(() => SlowSocketRoom.Closes(key).Contains("1000:c leaves:True"), "the object heard c's close");
    }

    [Fact]
    public async Task TheSocketTableForgetsAnObjectWithAnAutoResponseOnceItsSocketsClosedAndItWasEvicted()
    {
        var room = ServerFixture.UniqueName("room");
        var id = Rooms.Key.FromName(room);
        await using (var ann = await SocketClient.ConnectAsync(_server, room, "user=ann"))
        {
            Assert.Equal("auto-set", await ann.AskAsync("auto:ping:pong"));
        }
        await Eventually.True(() => Rooms.Sockets.Find(id) is null, "the object's entry left the socket table");
        Assert.False(Rooms.Sockets.HasOpenSockets(id));
    }

    [Fact]
    public async Task AnHttp10RequestWithoutHostReachesTheObjectAndAHostThatMakesNoUrlAnswers400()
    {
        var withoutHost = await RawAsync("GET /rooms/abc/x HTTP/1.0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 ", withoutHost);
        Assert.Contains($"X-Url: http://127.0.0.1:{_server.HttpAddress.Port}/rooms/abc/x", withoutHost);

        var badPort = await RawAsync("GET /rooms/abc/x HTTP/1.1\r\nHost: 127.0.0.1:99999\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400 ", badPort);
        Assert.Contains("The request's Host header \"127.0.0.1:99999\" does not make a valid URL.", badPort);
    }

    [Fact]
    public async Task HopByHopRequestHeadersDoNotReachFetch()
    {
        var answer = await RawAsync("GET /rooms/abc/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Test: kept\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 ", answer);
        var names = answer.Split("\r\n").Single(line => line.StartsWith("X-Headers: ", StringComparison.Ordinal))["X-Headers: ".Length..].Split(',');
        Assert.Contains("X-Test", names);
        Assert.DoesNotContain(names, name => name is "Connection" or "Keep-Alive" or "TE");
    }

    [Fact]
    public async Task OneMessageLargerThanTheSendQueueIsRefusedToTheObjectNotBlamedOnTheClient()
    {
        await using var ann = await SocketClient.ConnectAsync(_server, ServerFixture.UniqueName("room"), "user=ann");
        var answer = await ann.AskAsync("send-big:1100000");
        Assert.NotNull(answer);
        Assert.StartsWith("refused:", answer);
        Assert.Contains("1100000", answer);
        Assert.Contains("1048576", answer);
        Assert.Equal("echo:still open", await ann.AskAsync("still open"));
    }

    [Fact]
    public async Task AnObjectsOwnCloseIsNotReportedBackWhenTheClientNeverAnswers()
    {
        var room = ServerFixture.UniqueName("room");
        var id = Rooms.Key.FromName(room);
        var ann = await SocketClient.ConnectAsync(_server, room, "user=ann");
        // The object closes ann; ann never reads, so never answers: the server drops it after the close timeout.
        await ann.SendAsync("close:4000:bye");
        await Eventually.True(() => !Rooms.Sockets.HasOpenSockets(id), "the server dropped the connection");
        // A close event would have been queued before this call.
        Assert.Empty(await Room(room).Log());
        ann.Socket.Abort();
        ann.Socket.Dispose();
    }

    [Fact]
    public async Task AnObjectThatAcceptedASocketWhoseUpgradeFailedHearsItClose()
    {
        var room = ServerFixture.UniqueName("room");
        var error = await Assert.ThrowsAnyAsync<WebSocketException>(() => SocketClient.ConnectAsync(_server, room, "user=ann&throwafter=1"));
        Assert.Contains("500", error.Message);
        string[] log = [];
        await Eventually.True(() => (log = Room(room).Log().GetAwaiter().GetResult()).Length > 0, "the object logged the close");
        Assert.Equal("close:?:1006:False:The WebSocket upgrade did not complete.", Assert.Single(log));
    }

    [Fact]
    public async Task AnObjectAcceptsAtMostMaxWebSocketsPerObjectSockets()
    {
        var room = ServerFixture.UniqueName("room");
        await using var first = await SocketClient.ConnectAsync(_server, room, "user=a");
        await using var second = await SocketClient.ConnectAsync(_server, room, "user=b");
        await using var third = await SocketClient.ConnectAsync(_server, room, "user=c");
        using var fourth = new ClientWebSocket();
        fourth.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAnyAsync<WebSocketException>(() => fourth.ConnectAsync(SocketClient.RoomUri(_server, room, "user=d"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.TooManyRequests, fourth.HttpStatusCode);

        await first.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await Eventually.True(() => Rooms.Sockets.Count == 2, "the first socket left");
        await using var again = await SocketClient.ConnectAsync(_server, room, "user=e");
        Assert.Equal("count:3", await again.AskAsync("count"));
    }

    [Fact]
    public async Task AFetchSeesTheClientGoAwayThroughTheRequestsCancellationToken()
    {
        var room = ServerFixture.UniqueName("room");
        var id = Rooms.Key.FromName(room);
        using var http = new HttpClient();
        using var cancel = new CancellationTokenSource();
        var request = http.GetAsync(new Uri(_server.HttpAddress, $"/rooms/{room}/wait-abort"), cancel.Token);
        await Eventually.True(() => Rooms.EventsOf(id) == 1, "the Fetch handler waits");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        string[] log = [];
        await Eventually.True(() => (log = Room(room).Log().GetAwaiter().GetResult()).Length > 0, "the handler logged the abort");
        Assert.Equal("fetch-aborted", Assert.Single(log));
    }

    [Fact]
    public async Task OnceTheApplicationStopsRoutesAnswer503AndOpenSocketsClose()
    {
        await using var server = await RunningServer.StartAsync();
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(server, room, "user=ann");
        Assert.Equal("echo:hi", await ann.AskAsync("hi"));

        // Only the stopping signal: Kestrel, started without Run, goes on serving.
        server.App.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        Assert.Null(await ann.ReceiveAsync());
        Assert.Equal((WebSocketCloseStatus)1001, ann.CloseStatus);
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(server.HttpAddress, $"/rooms/{room}/x"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("The server is shutting down.", await response.Content.ReadAsStringAsync());
        using var refused = new ClientWebSocket();
        await Assert.ThrowsAnyAsync<WebSocketException>(() => refused.ConnectAsync(SocketClient.RoomUri(server, room, "user=bob"), CancellationToken.None));
    }
}
