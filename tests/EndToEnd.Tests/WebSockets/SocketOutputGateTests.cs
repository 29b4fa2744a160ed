using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using SourceGenDO.EndToEnd.Tests.Storage;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.EndToEnd.Tests.WebSockets;

/// <summary>
/// The gates on sockets (SPEC.md section 5): a socket message waits at the input gate like any event, and a
/// message sent after a write leaves once the write is durable, and never when it failed.
/// </summary>
public sealed class SocketOutputGateTests : IAsyncLifetime
{
    private readonly ControlledBackend _backend = new();
    private RunningServer _server = null!;

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync(options => options.UseStorage(_ => _backend));

    public async Task DisposeAsync()
    {
        _backend.Reads.Open();
        _backend.Commits.Open();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task ASocketMessageWaitsAtTheInputGateWhileAStorageReadIsPending()
    {
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(_server, room, "user=ann");
        await using var bob = await SocketClient.ConnectAsync(_server, room, "user=bob");
        Assert.Equal("echo:ready", await bob.AskAsync("ready"));
        _backend.Reads.Shut();

        await ann.SendAsync("read:k");
        await Eventually.True(() => _backend.Reads.Waiting == 1, "the read waits in the backend");
        var bobs = bob.AskAsync("while reading");
        await Task.Delay(100);

        // Bob's message reached the object, and would have run now without the gate.
        Assert.False(bobs.IsCompleted);
        _backend.Reads.Open();
        Assert.Equal("read:k:none", await ann.ReceiveAsync());
        Assert.Equal("echo:while reading", await bobs);
    }

    [Fact]
    public async Task AMessageSentAfterAWriteLeavesOnlyOnceTheWriteIsDurable()
    {
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(_server, room, "user=ann");
        await using var bob = await SocketClient.ConnectAsync(_server, room, "user=bob");
        Assert.Equal("auto-set", await bob.AskAsync("auto:ping:pong"));
        _backend.Commits.Shut();

        await ann.SendAsync("write-then-send:k1");
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the write waits in the backend");
        var held = ann.ReceiveAsync();
        // Another socket's answer, which no write holds, comes through meanwhile.
        Assert.Equal("pong", await bob.AskAsync("ping"));
        await Task.Delay(100);

        Assert.False(held.IsCompleted);
        _backend.Commits.Open();
        Assert.Equal("sent:k1", await held);
    }

    [Fact]
    public async Task ARoutesResponseAfterAWriteLeavesOnlyOnceTheWriteIsDurable()
    {
        using var http = new HttpClient { Timeout = SocketClient.Patience };
        _backend.Commits.Shut();

        var response = http.GetAsync($"http://127.0.0.1:{_server.HttpAddress.Port}/rooms/{ServerFixture.UniqueName("room")}/write");
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the write waits in the backend");
        await Task.Delay(100);

        Assert.False(response.IsCompleted);
        _backend.Commits.Open();
        using var answered = await response;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal("written", await answered.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ARoutesResponseAfterAFailedWriteIsA503SayingTheObjectWasReset()
    {
        using var http = new HttpClient { Timeout = SocketClient.Patience };
        _backend.FailNextCommit = new IOException("disk gone");

        using var response = await http.GetAsync($"http://127.0.0.1:{_server.HttpAddress.Port}/rooms/{ServerFixture.UniqueName("room")}/write");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("reset", body);
        Assert.Contains("disk gone", body);
    }

    [Fact]
    public async Task AFailedWriteDropsTheMessagesSentAfterItAndClosesTheSocketWith1011()
    {
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(_server, room, "user=ann");
        Assert.Equal("echo:ready", await ann.AskAsync("ready"));
        _backend.FailNextCommit = new IOException("disk gone");
        _backend.Commits.Shut();

        await ann.SendAsync("write-then-send:k2");
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the write waits in the backend");
        _backend.Commits.Open();

        Assert.Null(await ann.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.InternalServerError, ann.CloseStatus);
    }
    [Fact]
    public async Task AFailedWriteBeforeAnObjectsCloseStillClosesTheSocketWith1011()
    {
        var room = ServerFixture.UniqueName("room");
        await using var ann = await SocketClient.ConnectAsync(_server, room, "user=ann");
        Assert.Equal("echo:ready", await ann.AskAsync("ready"));
        _backend.FailNextCommit = new IOException("disk gone");
        _backend.Commits.Shut();

        await ann.SendAsync("write-then-send:k3");
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the write waits in the backend");
        // The object's close queues behind the write's output gate.
        await ann.SendAsync("close:4000:bye");
        var rooms = _server.App.Services.GetRequiredService<DurableObjectHost>().Namespaces.Single(ns => ns.Name == "SOCKET_ROOMS");
        await Eventually.True(() => rooms.Sockets.Find(rooms.Key.FromName(room))?.Open(null).Count == 0, "the object closed the socket");
        _backend.Commits.Open();

        // Neither the message nor the object's close leaves; the socket closes with 1011.
        Assert.Null(await ann.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.InternalServerError, ann.CloseStatus);
    }
}
