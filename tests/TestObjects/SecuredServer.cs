using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SourceGenDO.Server;

namespace SourceGenDO.TestObjects;

/// <summary>
/// A real server like <see cref="RunningServer"/> for the access tests: two namespaces of <see cref="AccessProbe"/>
/// with a route each, and the test's say over the endpoints, the access options and the host.
/// </summary>
public sealed class SecuredServer : IAsyncDisposable
{
    public const string Probes = "PROBES";
    public const string OtherProbes = "OTHER_PROBES";

    private SecuredServer(WebApplication app) => App = app;

    public WebApplication App { get; }

    /// <summary>The first endpoint: gRPC (HTTP/2) unless the test configured otherwise.</summary>
    public Uri Address => new(App.Urls.First());

    /// <summary>The second endpoint (HTTP/1.1 for routes and WebSockets), or the first when there is one.</summary>
    public Uri HttpAddress => new(App.Urls.Skip(1).FirstOrDefault() ?? App.Urls.First());

    /// <summary>
    /// Builds the server and starts it (an exception of the start is thrown, the app disposed).
    /// <paramref name="listen"/>: the endpoints, by default cleartext HTTP/2 and HTTP/1.1 on loopback.
    /// <paramref name="map"/>: more endpoints, mapped after the routes.
    /// </summary>
    public static async Task<SecuredServer> StartAsync(
        Action<DurableObjectsOptions>? configure = null,
        Action<KestrelServerOptions>? listen = null,
        Action<WebApplicationBuilder>? configureHost = null,
        Action<WebApplication>? map = null)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-tests", Guid.NewGuid().ToString("n"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (listen is null)
            {
                kestrel.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
                kestrel.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1);
            }
            else
            {
                listen(kestrel);
            }
        });
        builder.Services.AddDurableObjects(options =>
        {
            options.AddNamespace<AccessProbe>(Probes).AddNamespace<AccessProbe>(OtherProbes);
            options.DataDirectory = dataDirectory;
            options.UseInMemoryStorage();
            options.ShutdownGracePeriod = TimeSpan.FromSeconds(1);
            configure?.Invoke(options);
        });
        configureHost?.Invoke(builder);
        var app = builder.Build();
        app.MapDurableObjects();
        app.MapDurableObjectRoute<AccessProbe>("/probes/{name}/{**rest}", Probes);
        app.MapDurableObjectRoute<AccessProbe>("/other/{name}/{**rest}", OtherProbes);
        map?.Invoke(app);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new SecuredServer(app);
    }

    /// <summary>A client of the first endpoint with <paramref name="token"/>, and any other options.</summary>
    public Task<DurableObjectClient> ConnectAsync(string? token, DurableObjectClientOptions? options = null)
    {
        options ??= new DurableObjectClientOptions();
        options.AccessToken = token;
        return DurableObjectClient.ConnectAsync(Address, options);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
