using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SourceGenDO.EndToEnd.Tests.Security;

/// <summary>A server without a credential serves loopback only: bound anywhere else, however configured, it does not start.</summary>
public sealed class LoopbackRuleTests
{
    private const string Token = "a-token-for-any-address-0123456789";

    private static void AnyAddress(KestrelServerOptions kestrel) => kestrel.Listen(IPAddress.Any, 0, l => l.Protocols = HttpProtocols.Http2);

    [Fact]
    public async Task ANonLoopbackBindingWithoutATokenRefusesToStartSayingHowToSetOne()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SecuredServer.StartAsync(listen: AnyAddress));
        Assert.Contains("will not serve http://0.0.0.0:", refused.Message);
        Assert.Contains("without an access token", refused.Message);
        Assert.Contains("options.Access.AddToken(token)", refused.Message);
        Assert.Contains("DurableObjects:AccessToken", refused.Message);
        Assert.Contains("DurableObjects__AccessToken", refused.Message);
        Assert.Contains("DurableObjectClientOptions.AccessToken", refused.Message);
    }

    [Theory]
    [InlineData("http://*:0")]
    [InlineData("http://+:0")]
    [InlineData("http://0.0.0.0:0")]
    public async Task AddressesFromTheHostsSettingsAreCheckedAsTheyWereBound(string urls)
    {
        // The setting ASPNETCORE_URLS and --urls feed; no endpoint in code.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SecuredServer.StartAsync(
            listen: _ => { },
            configureHost: builder => builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, urls)));
        Assert.Contains("without an access token", refused.Message);
    }

    [Fact]
    public async Task WithATokenANonLoopbackBindingStartsAndServesOnlyTokenHolders()
    {
        await using var server = await SecuredServer.StartAsync(options => options.Access.AddToken(Token), listen: AnyAddress);
        var address = new Uri($"http://127.0.0.1:{server.Address.Port}");
        await Assert.ThrowsAsync<DurableObjectException>(() => DurableObjectClient.ConnectAsync(address));
        await using var client = await DurableObjectClient.ConnectAsync(address, new DurableObjectClientOptions { AccessToken = Token });
        var name = ServerFixture.UniqueName();
        Assert.StartsWith("hello", await client.GetNamespace<AccessProbeStub>(SecuredServer.Probes).GetByName(name).Hello());
    }

    [Fact]
    public async Task ATokenFromConfigurationIsEnoughToo()
    {
        await using var server = await SecuredServer.StartAsync(
            listen: AnyAddress,
            configureHost: builder => builder.Configuration["DurableObjects:AccessToken"] = Token);
        var address = new Uri($"http://127.0.0.1:{server.Address.Port}");
        await using var client = await DurableObjectClient.ConnectAsync(address, new DurableObjectClientOptions { AccessToken = Token });
        Assert.Equal(2, client.Namespaces.Count);
    }

    [Fact]
    public async Task ClientCertificatesWithoutTlsOnANonLoopbackAddressRefuseToStart()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SecuredServer.StartAsync(
            options => options.Access.ClientCertificateValidation = _ => true, listen: AnyAddress));
        Assert.Contains("has no TLS", refused.Message);
    }

    [Fact]
    public async Task InvalidAccessSettingsRefuseToStartNamingTheProblem()
    {
        var unknown = await Assert.ThrowsAsync<InvalidOperationException>(() => SecuredServer.StartAsync(
            options => options.Access.AddToken(Token, "NO_SUCH_NAMESPACE")));
        Assert.Contains("scoped to the namespace \"NO_SUCH_NAMESPACE\", which the server does not host", unknown.Message);

        var twice = await Assert.ThrowsAsync<InvalidOperationException>(() => SecuredServer.StartAsync(
            options => options.Access.AddToken(Token).AddToken(Token, SecuredServer.Probes)));
        Assert.Contains("is given twice", twice.Message);

        var tooShort = await Assert.ThrowsAsync<InvalidOperationException>(() => SecuredServer.StartAsync(
            configureHost: builder => builder.Configuration["DurableObjects:AccessTokens:0:Token"] = "short"));
        Assert.Contains("DurableObjects:AccessTokens:0:Token is not a valid access token", tooShort.Message);
        Assert.DoesNotContain("\"short\"", tooShort.Message);

        Assert.Throws<ArgumentException>(() => new Server.DurableObjectsOptions().Access.AddToken("has spaces in it, 0123456789"));
    }
}
