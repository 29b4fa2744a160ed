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
/// A real server like <see cref="RunningServer"/>, whose host the test configures further: its logging,
/// gRPC's options, the shutdown timeout.
/// </summary>
public sealed class CustomServer : IAsyncDisposable
{
    private CustomServer(WebApplication app) => App = app;

    public WebApplication App { get; }

    public Uri Address => new(App.Urls.First());

    public static async Task<CustomServer> StartAsync(
        Action<DurableObjectsOptions>? configure = null, Action<WebApplicationBuilder>? configureHost = null)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-tests", Guid.NewGuid().ToString("n"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddDurableObjects(options =>
        {
            RunningServer.AddTestNamespaces(options);
            options.DataDirectory = dataDirectory;
            configure?.Invoke(options);
        });
        configureHost?.Invoke(builder);
        var app = builder.Build();
        app.MapDurableObjects();
        await app.StartAsync();
        return new CustomServer(app);
    }

    public Task<DurableObjectClient> ConnectAsync(DurableObjectClientOptions? options = null) =>
        DurableObjectClient.ConnectAsync(Address, options);

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
