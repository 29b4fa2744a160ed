using Microsoft.Extensions.DependencyInjection;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.EndToEnd.Tests.WebSockets;

/// <summary>
/// Hibernation (SPEC.md section 4): an instance whose only activity is open sockets is evicted while they
/// stay connected, and the next message constructs a fresh one; attachments and the auto-response survive.
/// </summary>
public sealed class HibernationTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private DurableObjectClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(options => options.IdleTimeout = TimeSpan.FromMilliseconds(200));
        _client = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private NamespaceHost Rooms => _server.App.Services.GetRequiredService<DurableObjectHost>().Namespaces.Single(ns => ns.Name == "SOCKET_ROOMS");

    private bool IsLive(string room) => Rooms.IsLive(Rooms.Key.FromName(room));

    [Fact]
    public async Task AMessageAfterEvictionReachesAFreshInstanceAndTheAttachmentSurvives()
    {
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(_server, room, "user=ann");
        var first = await ann.AskAsync("whoami");
        var accepter = first!.Split(':')[2];
        Assert.Equal($"me:ann:{accepter}:{accepter}", first);
        Assert.Equal("renamed", await ann.AskAsync("rename:annie"));

        await Eventually.True(() => !IsLive(room), "the room with only an open socket was evicted");

        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, ann.Socket.State);
        var after = (await ann.AskAsync("whoami"))!.Split(':');
        Assert.Equal("annie", after[1]);
        Assert.NotEqual(accepter, after[3]);
        Assert.True(IsLive(room));
    }

    [Fact]
    public async Task SocketsAcceptedBeforeHibernationAreListedByTheFreshInstanceWithTheirTags()
    {
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(_server, room, "user=ann&tags=red");
        await using var bob = await SocketClient.ConnectAsync(_server, room, "user=bob&tags=red");
        Assert.Equal("echo:ready", await bob.AskAsync("ready"));

        await Eventually.True(() => !IsLive(room), "the room was evicted");
        await ann.SendAsync("broadcast:red:after sleep");

        Assert.Equal("after sleep", await ann.ReceiveAsync());
        Assert.Equal("after sleep", await bob.ReceiveAsync());
    }

    [Fact]
    public async Task TheAutoResponseAnswersWhileNoInstanceIsLive()
    {
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(_server, room, "user=ann");
        Assert.Equal("auto-set", await ann.AskAsync("auto:ping:pong"));
        await Eventually.True(() => !IsLive(room), "the room was evicted");
        var activations = Rooms.ActivationCount;

        Assert.Equal("pong", await ann.AskAsync("ping"));
        Assert.Equal("pong", await ann.AskAsync("ping"));

        Assert.False(IsLive(room));
        Assert.True(Rooms.ActivationCount <= activations);
        // Other messages still wake the object.
        Assert.StartsWith("me:ann:", await ann.AskAsync("whoami"));
        Assert.Equal("auto-cleared", await ann.AskAsync("noauto"));
        Assert.Equal("echo:ping", await ann.AskAsync("ping"));
    }

    [Fact]
    public async Task WithoutHibernationAnInstanceWithAnOpenSocketStaysLive()
    {
        await using var server = await RunningServer.StartAsync(options =>
        {
            options.IdleTimeout = TimeSpan.FromMilliseconds(200);
            options.HibernateWebSockets = false;
        });
        await using var client = await server.ConnectAsync();
        var rooms = server.App.Services.GetRequiredService<DurableObjectHost>().Namespaces.Single(ns => ns.Name == "SOCKET_ROOMS");
        var withSocket = ServerFixture.UniqueName("room");
        var without = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(server, withSocket, "user=ann");
        Assert.Equal("echo:ready", await ann.AskAsync("ready"));
        await client.GetNamespace<SocketRoomStub>("SOCKET_ROOMS").GetByName(without).Instance();

        // The room without sockets, used after the one with a socket, shows that eviction ran.
        await Eventually.True(() => !rooms.IsLive(rooms.Key.FromName(without)), "the room without sockets was evicted");

        Assert.True(rooms.IsLive(rooms.Key.FromName(withSocket)));
    }
}
