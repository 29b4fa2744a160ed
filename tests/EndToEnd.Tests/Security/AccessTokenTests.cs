using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SourceGenDO.Server.Security;
using SourceGenDO.Transport.Http2;

namespace SourceGenDO.EndToEnd.Tests.Security;

/// <summary>One server with a token for every namespace and a token scoped to one, shared by the tests of the class.</summary>
public sealed class TokenServerFixture : IAsyncLifetime
{
    public const string Full = "full-token-0123456789abcdef";
    public const string Scoped = "scoped-token-0123456789abcdef";
    public const string Wrong = "wrong-token-0123456789abcdef";

    public SecuredServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await SecuredServer.StartAsync(
        options => options.Access.AddToken(Full).AddToken(Scoped, SecuredServer.Probes),
        map: app =>
        {
            // Stand-ins for the listing API: one under the guarded prefix, one elsewhere with the convention.
            app.MapGet("/api/durable_objects/visible", (HttpContext context) =>
                string.Join(",", new[] { SecuredServer.OtherProbes, SecuredServer.Probes }.Where(ns => DurableObjectsAccess.CanSeeNamespace(context, ns))));
            app.MapGet("/elsewhere/visible", (HttpContext context) =>
                string.Join(",", new[] { SecuredServer.OtherProbes, SecuredServer.Probes }.Where(ns => DurableObjectsAccess.CanSeeNamespace(context, ns))))
                .RequireDurableObjectsAccess();
        });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Every surface refuses a missing or wrong token before any object is touched, and lets the right one in.</summary>
public sealed class AccessTokenTests(TokenServerFixture fixture) : IClassFixture<TokenServerFixture>
{
    private const string Full = TokenServerFixture.Full;
    private const string Scoped = TokenServerFixture.Scoped;
    private const string Wrong = TokenServerFixture.Wrong;

    private SecuredServer Server => fixture.Server;

    private static bool Constructed(string name) => AccessProbe.Constructions.ContainsKey(name);

    [Fact]
    public async Task TheHandshakeRefusesNoTokenAndAWrongTokenNotRetryableAndAcceptsTheRightOne()
    {
        var missing = await Assert.ThrowsAsync<DurableObjectException>(() => Server.ConnectAsync(null));
        Assert.False(missing.Retryable);
        Assert.Contains("This server requires an access token", missing.Message);
        Assert.Contains("DurableObjectClientOptions.AccessToken", missing.Message);
        var wrong = await Assert.ThrowsAsync<DurableObjectException>(() => Server.ConnectAsync(Wrong));
        Assert.False(wrong.Retryable);
        Assert.Contains("The access token was not accepted by the server.", wrong.Message);
        Assert.DoesNotContain(Wrong, wrong.Message);

        await using var client = await Server.ConnectAsync(Full);
        Assert.Equal([SecuredServer.OtherProbes, SecuredServer.Probes], client.Namespaces.Order());
        var name = ServerFixture.UniqueName();
        Assert.Equal($"hello {name} (1)", await client.GetNamespace<AccessProbeStub>(SecuredServer.Probes).GetByName(name).Hello());
    }

    [Fact]
    public async Task AConnectStreamWithoutTheRightTokenFailsUnauthenticatedAndNotRetryable()
    {
        foreach (var (token, expected) in new[] { ((string?)null, "This server requires an access token"), (Wrong, "The access token was not accepted") })
        {
            using var invoker = new Http2CallInvoker(Server.Address, TimeSpan.FromSeconds(10));
            var headers = token is null ? null : new Grpc.Core.Metadata { { "authorization", "Bearer " + token } };
            var stream = new ClientStream(invoker, 100, headers);
            await Eventually.True(() => stream.Failure is not null, "the server ended the stream");
            var failure = Assert.IsType<DurableObjectException>(stream.Failure);
            Assert.False(failure.Retryable);
            Assert.Contains(expected, failure.Message);
            var status = Assert.IsType<Grpc.Core.RpcException>(failure.InnerException);
            Assert.Equal(Grpc.Core.StatusCode.Unauthenticated, status.StatusCode);
        }
    }

    [Fact]
    public async Task RoutesRefuseNoTokenAndAWrongTokenWith401BeforeTheObjectIsConstructed()
    {
        using var http = new HttpClient { BaseAddress = Server.HttpAddress };
        var name = ServerFixture.UniqueName();

        using (var missing = await http.GetAsync($"/probes/{name}/x"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
            Assert.Equal("Bearer realm=\"SourceGenDO\"", missing.Headers.WwwAuthenticate.ToString());
            Assert.Contains("requires an access token", await missing.Content.ReadAsStringAsync());
        }
        using (var wrong = await SendAsync(http, $"/probes/{name}/x", Wrong))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal("Bearer realm=\"SourceGenDO\", error=\"invalid_token\"", wrong.Headers.WwwAuthenticate.ToString());
        }
        Assert.False(Constructed(name));

        using var right = await SendAsync(http, $"/probes/{name}/x", Full);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        // The object never sees the token.
        Assert.Equal("authorization=none; protocols=none", await right.Content.ReadAsStringAsync());
        Assert.Equal(1, AccessProbe.Constructions[name]);
    }

    [Fact]
    public async Task WebSocketUpgradesRefuseNoTokenAndAWrongTokenAndAcceptTheRightOneAsHeaderOrSubprotocol()
    {
        var name = ServerFixture.UniqueName();
        var url = new Uri($"ws://{Server.HttpAddress.Authority}/probes/{name}/socket");

        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedUpgradeAsync(url, socket => { }));
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedUpgradeAsync(url, socket => socket.Options.SetRequestHeader("Authorization", "Bearer " + Wrong)));
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedUpgradeAsync(url, socket =>
        {
            socket.Options.AddSubProtocol(AccessPolicy.WebSocketProtocol);
            socket.Options.AddSubProtocol(AccessPolicy.BearerProtocolPrefix + Wrong);
        }));
        Assert.False(Constructed(name));

        using (var byHeader = new ClientWebSocket())
        {
            byHeader.Options.SetRequestHeader("Authorization", "Bearer " + Full);
            await byHeader.ConnectAsync(url, CancellationToken.None);
            Assert.Equal("authorization=none; protocols=none", await ReceiveAsync(byHeader));
            Assert.Equal("echo:hi", await EchoAsync(byHeader, "hi"));
        }
        // As a browser does it, which cannot set headers: the token as a subprotocol, beside "sourcegendo",
        // which the server answers so the token itself is never echoed.
        using var byProtocol = new ClientWebSocket();
        byProtocol.Options.AddSubProtocol(AccessPolicy.WebSocketProtocol);
        byProtocol.Options.AddSubProtocol(AccessPolicy.BearerProtocolPrefix + Full);
        await byProtocol.ConnectAsync(url, CancellationToken.None);
        Assert.Equal(AccessPolicy.WebSocketProtocol, byProtocol.SubProtocol);
        Assert.Equal("authorization=none; protocols=sourcegendo", await ReceiveAsync(byProtocol));
        Assert.Equal("echo:there", await EchoAsync(byProtocol, "there"));
        Assert.Equal(1, AccessProbe.Constructions[name]);
    }

    [Theory]
    [InlineData("/api/durable_objects/namespaces")]
    [InlineData("/api/durable_objects/namespaces/PROBES/objects?limit=10")]
    [InlineData("/api/durable_objects")]
    [InlineData("/API/Durable_Objects/namespaces")]
    [InlineData("//api//durable_objects/namespaces")]
    [InlineData("/api/durable_objects/visible")]
    public async Task EveryPathUnderTheListingPrefixRefusesNoTokenAndAWrongTokenInTheApiEnvelope(string path)
    {
        using var http = new HttpClient { BaseAddress = Server.HttpAddress };
        foreach (var token in new[] { null, Wrong })
        {
            using var refused = await SendAsync(http, path, token);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.StartsWith("Bearer", refused.Headers.WwwAuthenticate.ToString());
            using var envelope = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.False(envelope.RootElement.GetProperty("success").GetBoolean());
            var error = envelope.RootElement.GetProperty("errors")[0];
            Assert.Equal(10000, error.GetProperty("code").GetInt32());
            Assert.Contains(token is null ? "requires an access token" : "not accepted", error.GetProperty("message").GetString());
            Assert.Equal(JsonValueKind.Null, envelope.RootElement.GetProperty("result").ValueKind);
        }
        // The right token goes on to whatever serves the path: the listing, the stand-in, or no route.
        using var accepted = await SendAsync(http, path, Full);
        var served = path.EndsWith("/visible", StringComparison.Ordinal) || path.StartsWith("/api/durable_objects/namespaces", StringComparison.OrdinalIgnoreCase);
        Assert.Equal(served ? HttpStatusCode.OK : HttpStatusCode.NotFound, accepted.StatusCode);
    }

    [Fact]
    public async Task PathsThatOnlyLookLikeTheListingPrefixAreNotGuarded()
    {
        using var http = new HttpClient { BaseAddress = Server.HttpAddress };
        using var response = await http.GetAsync("/api/durable_objectsX/namespaces");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task TheListingSeesTheNamespacesOfItsCallersToken()
    {
        using var http = new HttpClient { BaseAddress = Server.HttpAddress };
        foreach (var path in new[] { "/api/durable_objects/visible", "/elsewhere/visible" })
        {
            using var full = await SendAsync(http, path, Full);
            Assert.Equal("OTHER_PROBES,PROBES", await full.Content.ReadAsStringAsync());
            using var scoped = await SendAsync(http, path, Scoped);
            Assert.Equal("PROBES", await scoped.Content.ReadAsStringAsync());
        }
        // An endpoint with RequireDurableObjectsAccess is guarded wherever it is mapped.
        using var missing = await http.GetAsync("/elsewhere/visible");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
    }

    [Fact]
    public async Task AScopedTokenSeesAndCallsOnlyItsNamespaces()
    {
        await using var client = await Server.ConnectAsync(Scoped);
        Assert.Equal([SecuredServer.Probes], client.Namespaces);
        var other = Assert.Throws<ArgumentException>(() => client.GetNamespace<AccessProbeStub>(SecuredServer.OtherProbes));
        Assert.Contains("has no namespace \"OTHER_PROBES\"", other.Message);
        var name = ServerFixture.UniqueName();
        Assert.StartsWith("hello", await client.GetNamespace<AccessProbeStub>(SecuredServer.Probes).GetByName(name).Hello());

        using var http = new HttpClient { BaseAddress = Server.HttpAddress };
        var foreign = ServerFixture.UniqueName();
        using (var refused = await SendAsync(http, $"/other/{foreign}/x", Scoped))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("Bearer realm=\"SourceGenDO\", error=\"insufficient_scope\"", refused.Headers.WwwAuthenticate.ToString());
            Assert.Equal("The access token does not grant the namespace \"OTHER_PROBES\".", await refused.Content.ReadAsStringAsync());
        }
        var url = new Uri($"ws://{Server.HttpAddress.Authority}/other/{foreign}/socket");
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedUpgradeAsync(url, socket => socket.Options.SetRequestHeader("Authorization", "Bearer " + Scoped)));
        Assert.False(Constructed(foreign));
        using var granted = await SendAsync(http, $"/probes/{foreign}/x", Scoped);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
    }

    [Fact]
    public async Task TheListingApiAndTheListingServiceShowAScopedTokenOnlyItsNamespaces()
    {
        using var http = new HttpClient { BaseAddress = Server.HttpAddress };
        using (var all = await SendAsync(http, "/api/durable_objects/namespaces", Full))
        {
            var body = await all.Content.ReadAsStringAsync();
            Assert.Contains("\"OTHER_PROBES\"", body);
            Assert.Contains("\"PROBES\"", body);
        }
        using (var scoped = await SendAsync(http, "/api/durable_objects/namespaces", Scoped))
        {
            var body = await scoped.Content.ReadAsStringAsync();
            Assert.Contains("\"PROBES\"", body);
            Assert.DoesNotContain("OTHER_PROBES", body);
            Assert.Contains("\"total_count\":1", body);
        }
        // Another namespace's objects are answered as an unknown namespace's: a scoped token learns nothing of it.
        using (var foreign = await SendAsync(http, "/api/durable_objects/namespaces/OTHER_PROBES/objects", Scoped))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }
        using (var own = await SendAsync(http, "/api/durable_objects/namespaces/PROBES/objects", Scoped))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        await using (var client = await Server.ConnectAsync(Scoped))
        {
            Assert.Equal([SecuredServer.Probes], (await client.ListNamespacesAsync().ToListAsync()).Select(ns => ns.Name));
        }
        // The gRPC listing service admits callers as the handshake does.
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(Server.Address);
        var invoker = channel.CreateCallInvoker();
        foreach (var token in new[] { null, Wrong })
        {
            var headers = token is null ? null : new Grpc.Core.Metadata { { "authorization", "Bearer " + token } };
            var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await invoker.AsyncUnaryCall(
                ListingRpc.ListNamespaces, null, new Grpc.Core.CallOptions(headers), new SourceGenDO.Wire.ListNamespacesRequest()));
            Assert.Equal(Grpc.Core.StatusCode.Unauthenticated, refused.StatusCode);
        }
        var objects = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await invoker.AsyncUnaryCall(
            ListingRpc.ListObjects, null, new Grpc.Core.CallOptions(new Grpc.Core.Metadata { { "authorization", "Bearer " + Scoped } }),
            new SourceGenDO.Wire.ListObjectsRequest { Namespace = SecuredServer.OtherProbes }));
        Assert.Equal(Grpc.Core.StatusCode.NotFound, objects.StatusCode);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string? token)
    {
        // Absolute, so that a path starting with "//" is a path, not an authority.
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(http.BaseAddress!.GetLeftPart(UriPartial.Authority) + path));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return http.SendAsync(request);
    }

    private static async Task<HttpStatusCode> RefusedUpgradeAsync(Uri url, Action<ClientWebSocket> configure)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure(socket);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(url, CancellationToken.None));
        return socket.HttpStatusCode;
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        return await ReceiveAsync(socket);
    }

    private static async Task<string> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
