using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SourceGenDO.Server.Security;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>Access control as a client that knows only the wire contract meets it: headers, statuses, closed channels.</summary>
public sealed class AccessWireTests : IAsyncLifetime
{
    private const string Full = "wire-full-token-0123456789";
    private const string Scoped = "wire-scoped-token-0123456789";
    private const string Wrong = "wire-wrong-token-0123456789";

    private readonly CapturedLogs _logs = new();
    private SecuredServer _server = null!;
    private RawClient _raw = null!;

    public async Task InitializeAsync()
    {
        _server = await SecuredServer.StartAsync(
            options => options.Access.AddToken(Full).AddToken(Scoped, SecuredServer.Probes),
            configureHost: builder => builder.Logging.AddProvider(_logs));
        _raw = new RawClient(_server.Address);
    }

    public async Task DisposeAsync()
    {
        _raw.Dispose();
        await _server.DisposeAsync();
    }

    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    private async Task<HandshakeResponse> HandshakeAsync(string token) => await _raw.Grpc.HandshakeAsync(new HandshakeRequest(), Bearer(token));

    private static Call Hello(uint channel, ulong id) => RawClient.Call(channel, id, "Hello", []);

    [Fact]
    public async Task TheHandshakeWithoutTheRightTokenIsUnauthenticatedAndGivesNoKeys()
    {
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await _raw.Grpc.HandshakeAsync(new HandshakeRequest()));
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.StartsWith("This server requires an access token: send it as \"Authorization: Bearer <token>\"", missing.Status.Detail);
        var wrong = await Assert.ThrowsAsync<RpcException>(async () => await HandshakeAsync(Wrong));
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Equal("The access token was not accepted by the server.", wrong.Status.Detail);
        // Any scheme but Bearer carries no token.
        var basic = await Assert.ThrowsAsync<RpcException>(async () =>
            await _raw.Grpc.HandshakeAsync(new HandshakeRequest(), new Metadata { { "authorization", "Basic " + Full } }));
        Assert.Equal(StatusCode.Unauthenticated, basic.StatusCode);

        var full = await HandshakeAsync(Full);
        Assert.Equal([SecuredServer.OtherProbes, SecuredServer.Probes], full.Namespaces.Select(ns => ns.Name));
        Assert.All(full.Namespaces, ns => Assert.Equal(32, ns.IdKey.Length));
    }

    [Fact]
    public async Task AConnectStreamWithoutTheRightTokenEndsUnauthenticatedWithoutConstructingTheObject()
    {
        var key = (await HandshakeAsync(Full)).Namespaces.Single(ns => ns.Name == SecuredServer.Probes).IdKey;
        var name = Guid.NewGuid().ToString("n");
        foreach (var headers in new[] { null, Bearer(Wrong) })
        {
            using var stream = new RawStream(_raw.Grpc.Connect(headers));
            var channel = stream.Open(SecuredServer.Probes, RawClient.IdFromName(key, name), System.Text.Encoding.UTF8.GetBytes(name));
            var ended = await Assert.ThrowsAsync<RpcException>(() => stream.CallAsync(Hello(channel, 1)));
            Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        }
        Assert.False(AccessProbe.Constructions.ContainsKey(name));

        using var accepted = new RawStream(_raw.Grpc.Connect(Bearer(Full)));
        var open = accepted.Open(SecuredServer.Probes, RawClient.IdFromName(key, name), System.Text.Encoding.UTF8.GetBytes(name));
        var results = await accepted.CallAsync(Hello(open, 1));
        Assert.Equal(Result.OutcomeOneofCase.Value, results[1].OutcomeCase);
        Assert.Equal(1, AccessProbe.Constructions[name]);
    }

    [Fact]
    public async Task AScopedTokenGetsOnlyItsNamespacesKeysAndItsChannelsElsewhereAreRefused()
    {
        var scoped = await HandshakeAsync(Scoped);
        Assert.Equal([SecuredServer.Probes], scoped.Namespaces.Select(ns => ns.Name));
        var full = await HandshakeAsync(Full);
        // Ids of the other namespace, minted with a key the scoped client was never given.
        var otherKey = full.Namespaces.Single(ns => ns.Name == SecuredServer.OtherProbes).IdKey;
        var name = Guid.NewGuid().ToString("n");

        using var stream = new RawStream(_raw.Grpc.Connect(Bearer(Scoped)));
        var otherId = RawClient.IdFromName(otherKey, name);
        var foreign = stream.Open(SecuredServer.OtherProbes, otherId);
        var unknown = stream.Open("NO_SUCH_NAMESPACE", RawClient.IdFromName(otherKey, name));
        var granted = stream.Open(SecuredServer.Probes, RawClient.IdFromName(scoped.Namespaces[0].IdKey, name));
        var results = await stream.CallAsync(Hello(foreign, 1), Hello(unknown, 2), Hello(granted, 3));
        Assert.Equal("The access token does not grant the namespace \"OTHER_PROBES\".", results[1].Error.Message);
        Assert.Equal("The access token does not grant the namespace \"NO_SUCH_NAMESPACE\".", results[2].Error.Message);
        Assert.Equal("The access token does not grant the namespace \"OTHER_PROBES\".", stream.Closed[foreign].Message);
        Assert.Equal(Result.OutcomeOneofCase.Value, results[3].OutcomeCase);
        // Opened without a name, an instance counts under its id: the refused one was never constructed.
        Assert.False(AccessProbe.Constructions.ContainsKey(otherId));
        Assert.True(AccessProbe.Constructions.ContainsKey(RawClient.IdFromName(scoped.Namespaces[0].IdKey, name)));
    }

    [Fact]
    public async Task RefusalsAreLoggedOnceAWhileAndNeverWithTheToken()
    {
        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<RpcException>(async () => await HandshakeAsync(Wrong));
        }
        var refusals = _logs.Entries.Where(entry => entry.Category == "SourceGenDO.Server.Access").ToArray();
        var logged = Assert.Single(refusals);
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.StartsWith("Refused the handshake from 127.0.0.1:", logged.Message);
        Assert.EndsWith(": The access token was not accepted by the server.", logged.Message);
        Assert.DoesNotContain(_logs.Entries, entry => entry.Message.Contains(Wrong, StringComparison.Ordinal) || entry.Message.Contains(Full, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutATokenOnlyConnectionsToLoopbackAddressesAreServed()
    {
        // The rule behind the refusal to start, applied to every request: it holds however the server was bound.
        await using var open = await SecuredServer.StartAsync();
        var policy = open.App.Services.GetRequiredService<AccessPolicy>();
        AccessRefusal Refusal(IPAddress? local)
        {
            var context = new DefaultHttpContext();
            context.Connection.LocalIpAddress = local;
            policy.Authenticate(context, out var refusal);
            return refusal;
        }
        Assert.Equal(AccessRefusal.None, Refusal(IPAddress.Loopback));
        Assert.Equal(AccessRefusal.None, Refusal(IPAddress.IPv6Loopback));
        Assert.Equal(AccessRefusal.None, Refusal(IPAddress.Loopback.MapToIPv6()));
        Assert.Equal(AccessRefusal.None, Refusal(null));
        Assert.Equal(AccessRefusal.NotLoopback, Refusal(IPAddress.Parse("192.0.2.10")));
        Assert.Equal(AccessRefusal.NotLoopback, Refusal(IPAddress.Parse("192.0.2.10").MapToIPv6()));
        Assert.Equal(AccessRefusal.NotLoopback, Refusal(IPAddress.Parse("2001:db8::1")));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://127.1.2.3:5000", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("http://unix:/tmp/sgdo.sock", true)]
    [InlineData("http://0.0.0.0:5000", false)]
    [InlineData("http://[::]:5000", false)]
    [InlineData("https://192.0.2.10:443", false)]
    [InlineData("http://example.com:80", false)]
    [InlineData("not an address", false)]
    public void BoundAddressesAreLocalOnlyWhenOnlyThisMachineReachesThem(string address, bool local) =>
        Assert.Equal(local, ListenAddressCheck.IsLocal(address));
}
