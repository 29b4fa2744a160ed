using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace SourceGenDO.EndToEnd.Tests.Security;

/// <summary>The client's https path over a configured certificate, and TLS client certificates in place of a token.</summary>
public sealed class TlsTests
{
    private const string Token = "tls-token-0123456789abcdef";

    private static readonly X509Certificate2 ServerCertificate = TestCertificates.Server();

    private static RemoteCertificateValidationCallback TrustTestServer =>
        (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == ServerCertificate.GetCertHashString();

    private static Action<KestrelServerOptions> Https(IPAddress address, Action<HttpsConnectionAdapterOptions>? configure = null) => kestrel =>
        kestrel.Listen(address, 0, listen =>
        {
            // One TLS endpoint serves gRPC (HTTP/2) and routes (HTTP/1.1) alike: ALPN picks.
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(https =>
            {
                https.ServerCertificate = ServerCertificate;
                configure?.Invoke(https);
            });
        });

    [Fact]
    public async Task CallsFetchesAndRoutesWorkOverHttpsWithATestCertificate()
    {
        await using var server = await SecuredServer.StartAsync(options => options.Access.AddToken(Token), listen: Https(IPAddress.Loopback));
        Assert.Equal("https", server.Address.Scheme);
        var address = new Uri($"https://127.0.0.1:{server.Address.Port}");
        await using var client = await DurableObjectClient.ConnectAsync(address, new DurableObjectClientOptions
        {
            AccessToken = Token,
            ServerCertificateValidation = TrustTestServer,
        });
        var name = ServerFixture.UniqueName();
        var stub = client.GetNamespace<AccessProbeStub>(SecuredServer.Probes).GetByName(name);
        Assert.Equal($"hello {name} (1)", await stub.Hello());
        using (var fetched = await stub.FetchAsync("http://do/x"))
        {
            Assert.Equal("authorization=none; protocols=none", await fetched.Content.ReadAsStringAsync());
        }

        using var http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = TrustTestServer } });
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(address, $"/probes/{name}/x"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var routed = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
    }

    [Fact]
    public async Task AClientThatDoesNotTrustTheCertificateCannotConnect()
    {
        await using var server = await SecuredServer.StartAsync(options => options.Access.AddToken(Token), listen: Https(IPAddress.Loopback));
        var address = new Uri($"https://127.0.0.1:{server.Address.Port}");
        await Assert.ThrowsAsync<DurableObjectException>(() => DurableObjectClient.ConnectAsync(address, new DurableObjectClientOptions
        {
            AccessToken = Token,
            ServerCertificateValidation = (_, _, _, _) => false,
        }));
    }

    [Fact]
    public async Task ClientCertificatesStandInForATokenEvenBeyondLoopback()
    {
        var trusted = TestCertificates.Client("sgdo-trusted-client");
        var stranger = TestCertificates.Client("sgdo-stranger");
        // Kestrel asks for a certificate and lets any through to the server's own validation, which decides.
        await using var server = await SecuredServer.StartAsync(
            options => options.Access.ClientCertificateValidation = certificate => certificate.Thumbprint == trusted.Thumbprint,
            listen: Https(IPAddress.Any, https =>
            {
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.ClientCertificateValidation = (_, _, _) => true;
            }));
        var address = new Uri($"https://127.0.0.1:{server.Address.Port}");

        await using var client = await DurableObjectClient.ConnectAsync(address, new DurableObjectClientOptions
        {
            ServerCertificateValidation = TrustTestServer,
            ClientCertificate = trusted,
        });
        Assert.Equal(2, client.Namespaces.Count);
        Assert.StartsWith("hello", await client.GetNamespace<AccessProbeStub>(SecuredServer.OtherProbes).GetByName(ServerFixture.UniqueName()).Hello());

        var none = await Assert.ThrowsAsync<DurableObjectException>(() => DurableObjectClient.ConnectAsync(address, new DurableObjectClientOptions
        {
            ServerCertificateValidation = TrustTestServer,
        }));
        Assert.False(none.Retryable);
        Assert.Contains("requires a TLS client certificate", none.Message);
        var wrong = await Assert.ThrowsAsync<DurableObjectException>(() => DurableObjectClient.ConnectAsync(address, new DurableObjectClientOptions
        {
            ServerCertificateValidation = TrustTestServer,
            ClientCertificate = stranger,
        }));
        Assert.Contains("The client certificate was not accepted by the server.", wrong.Message);
    }

    [Fact]
    public async Task TlsOptionsNeedAnHttpsAddressAndNoHandlerOfTheirOwn()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => DurableObjectClient.ConnectAsync(
            new Uri("http://127.0.0.1:1"), new DurableObjectClientOptions { ServerCertificateValidation = TrustTestServer }));
        await Assert.ThrowsAsync<ArgumentException>(() => DurableObjectClient.ConnectAsync(
            new Uri("https://127.0.0.1:1"), new DurableObjectClientOptions { ServerCertificateValidation = TrustTestServer, HttpHandler = new SocketsHttpHandler() }));
        await Assert.ThrowsAsync<ArgumentException>(() => DurableObjectClient.ConnectAsync(
            new Uri("http://127.0.0.1:1"), new DurableObjectClientOptions { AccessToken = "bad\r\nX-Injected: 1" }));
    }
}
