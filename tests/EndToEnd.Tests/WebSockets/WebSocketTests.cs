using System.Net;
using System.Net.WebSockets;

namespace SourceGenDO.EndToEnd.Tests.WebSockets;

/// <summary>WebSockets into objects over real loopback with <see cref="ClientWebSocket"/> (SPEC.md section 4).</summary>
public sealed class WebSocketTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RunningServer Server => fixture.Server;

    private DurableObjectNamespace<SocketRoomStub> Rooms => fixture.Client.GetNamespace<SocketRoomStub>("SOCKET_ROOMS");

    [Fact]
    public async Task AnAcceptedSocketReachesTheObjectsHandlerWithItsAttachment()
    {
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(Server, room, "user=ann&greet=1");

        Assert.Equal("hello ann", await ann.ReceiveAsync());
        var instance = await Rooms.GetByName(room).Instance();
        Assert.Equal($"me:ann:{instance}:{instance}", await ann.AskAsync("whoami"));
        Assert.Equal("echo:anything", await ann.AskAsync("anything"));
        Assert.Equal(1, await Rooms.GetByName(room).SocketCount(null));
    }

    [Fact]
    public async Task ABroadcastByTagReachesOnlyTheSocketsWithThatTag()
    {
        var room = ServerFixture.UniqueName("room");
        await using var red1 = await SocketClient.ConnectAsync(Server, room, "user=r1&tags=red,warm");
        await using var red2 = await SocketClient.ConnectAsync(Server, room, "user=r2&tags=red");
        await using var blue = await SocketClient.ConnectAsync(Server, room, "user=b&tags=blue");

        Assert.Equal("count:2", await blue.AskAsync("count:red"));
        await blue.SendAsync("broadcast:red:hi reds");

        Assert.Equal("hi reds", await red1.ReceiveAsync());
        Assert.Equal("hi reds", await red2.ReceiveAsync());
        // Had the broadcast reached blue, it would come before this answer.
        Assert.Equal("echo:next", await blue.AskAsync("next"));
        Assert.Equal(1, await Rooms.GetByName(room).SocketCount("warm"));
    }

    [Fact]
    public async Task AClientsCloseCodeReachesTheObjectAndTheObjectsCloseCodeReachesTheClient()
    {
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(Server, room, "user=ann");
        await using var bob = await SocketClient.ConnectAsync(Server, room, "user=bob");
        Assert.Equal("echo:ready", await bob.AskAsync("ready"));

        await ann.Socket.CloseAsync((WebSocketCloseStatus)4001, "ann leaves", CancellationToken.None);

        Assert.Equal((WebSocketCloseStatus)4001, ann.Socket.CloseStatus);
        Assert.Equal("left:close:ann:4001:True", await bob.ReceiveAsync());
        Assert.Equal(1, await Rooms.GetByName(room).SocketCount(null));

        await bob.SendAsync("close:4002:done here");
        Assert.Null(await bob.ReceiveAsync());
        Assert.Equal((WebSocketCloseStatus)4002, bob.CloseStatus);
        Assert.Equal("done here", bob.Socket.CloseStatusDescription);
        await Eventually.True(() => Rooms.GetByName(room).SocketCount(null).Result == 0, "the closed socket left GetWebSockets");
    }

    [Fact]
    public async Task AnExceptionInAHandlerIsLoggedAndTheSocketStaysOpen()
    {
        await using var ann = await SocketClient.ConnectAsync(Server, ServerFixture.UniqueName("room"), "user=ann");

        await ann.SendAsync("throw");

        Assert.Equal("echo:after", await ann.AskAsync("after"));
    }

    [Fact]
    public async Task MoreThanTenTagsOrATagLongerThan256CharactersAreRefusedClearly()
    {
        await using var ann = await SocketClient.ConnectAsync(Server, ServerFixture.UniqueName("room"), "user=ann");

        Assert.Contains("at most 10 tags; 11 were given", await ann.AskAsync("tags:11:1"));
        Assert.Contains("at most 256 characters; one has 257", await ann.AskAsync("tags:1:257"));
        // At the limits the tags pass; the socket itself is refused, being accepted already.
        Assert.Contains("invalid:This WebSocket was accepted already", await ann.AskAsync("tags:10:256"));
    }

    [Fact]
    public async Task AnAttachmentLargerThan16KiBIsRefusedClearly()
    {
        await using var ann = await SocketClient.ConnectAsync(Server, ServerFixture.UniqueName("room"), "user=ann");

        Assert.Contains("at most 16384 bytes", await ann.AskAsync("big-attachment:20000"));
        Assert.Equal("attached", await ann.AskAsync("big-attachment:100"));
    }

    [Fact]
    public async Task AFetchThatAnswersOtherThan101RefusesTheUpgradeWithThatResponseAnd101WithoutAcceptingIsAnError()
    {
        var room = ServerFixture.UniqueName("room");

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => SocketClient.ConnectAsync(Server, room, "refuse=no"));
        var unaccepted = await Assert.ThrowsAsync<WebSocketException>(() => SocketClient.ConnectAsync(Server, room, "noaccept=1"));

        Assert.Contains("403", refused.Message);
        Assert.Contains("500", unaccepted.Message);
        Assert.Equal(0, await Rooms.GetByName(room).SocketCount(null));
    }

    [Fact]
    public async Task AClientThatVanishesIsReportedAsAnAbnormalCloseAndLeavesGetWebSockets()
    {
        var room = ServerFixture.UniqueName("room");
        var gone = await SocketClient.ConnectAsync(Server, room, "user=gone");
        await using var bob = await SocketClient.ConnectAsync(Server, room, "user=bob");
        Assert.Equal("echo:ready", await gone.AskAsync("ready"));

        gone.Socket.Abort();
        gone.Socket.Dispose();

        Assert.Equal("left:close:gone:1006:False", await bob.ReceiveAsync());
        Assert.Equal(1, await Rooms.GetByName(room).SocketCount(null));
    }

    [Fact]
    public async Task AMessageOverTheSizeBoundClosesThatSocketWith1009()
    {
        await using var server = await RunningServer.StartAsync(options => options.MaxWebSocketMessageBytes = 16 * 1024);
        await using var client = await server.ConnectAsync();
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(server, room, "user=ann");
        await using var bob = await SocketClient.ConnectAsync(server, room, "user=bob");
        Assert.Equal("echo:" + new string('s', 16 * 1024 - 5), await ann.AskAsync(new string('s', 16 * 1024 - 5)));

        await ann.SendAsync(new string('b', 40 * 1024));

        Assert.Null(await ann.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, ann.CloseStatus);
        Assert.StartsWith("left:close:ann:1009:False", await bob.ReceiveAsync());
        Assert.Equal("echo:still here", await bob.AskAsync("still here"));
    }

    [Fact]
    public async Task AClientThatNeverReadsIsClosedWhenItsSendQueueIsFullAndOthersAreUntouched()
    {
        await using var server = await RunningServer.StartAsync(options =>
        {
            options.MaxWebSocketSendQueueBytes = 256 * 1024;
            options.MaxWebSocketSendQueueMessages = 10_000;
        });
        await using var client = await server.ConnectAsync();
        var room = ServerFixture.UniqueName("room");
        var stub = client.GetNamespace<SocketRoomStub>("SOCKET_ROOMS").GetByName(room);
        await using var sleeper = await SocketClient.ConnectAsync(server, room, "user=sleeper&tags=slow");
        await using var reader = await SocketClient.ConnectAsync(server, room, "user=reader&tags=fast");
        Assert.Equal("echo:ready", await reader.AskAsync("ready"));

        // Far more than the queue and every socket buffer on the way can hold; the sleeper reads nothing.
        for (var round = 0; round < 20 && await stub.SocketCount("slow") == 1; round++)
        {
            Assert.Equal("flooded", await reader.AskAsync("flood:slow:2000:8192"));
        }

        Assert.Equal(0, await stub.SocketCount("slow"));
        Assert.Equal("left:close:sleeper:1008:False", await reader.ReceiveStartingWithAsync("left:"));
        var closed = Assert.Single(await stub.Log());
        Assert.StartsWith("close:sleeper:1008:False:Send queue full", closed);
        Assert.EndsWith("the client did not read.", closed);
        Assert.Equal("echo:untouched", await reader.AskAsync("untouched"));
        Assert.Equal(1, await stub.SocketCount("fast"));
    }
}
