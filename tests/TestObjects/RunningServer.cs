using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SourceGenDO.Server;

namespace SourceGenDO.TestObjects;

/// <summary>A real SourceGenDO server on a loopback port, hosting the test objects.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private RunningServer(WebApplication app, Uri address, Uri httpAddress, string dataDirectory)
    {
        App = app;
        Address = address;
        HttpAddress = httpAddress;
        DataDirectory = dataDirectory;
    }

    public WebApplication App { get; }

    /// <summary>The gRPC endpoint (cleartext HTTP/2, prior knowledge), which stubs connect to.</summary>
    public Uri Address { get; }

    /// <summary>
    /// The HTTP/1.1 endpoint of the routes (browsers and <c>ClientWebSocket</c>): Kestrel's cleartext
    /// <c>Http1AndHttp2</c> speaks only HTTP/1.1, so the gRPC endpoint stays HTTP/2-only beside it.
    /// </summary>
    public Uri HttpAddress { get; }

    public string DataDirectory { get; }

    public int Port => Address.Port;

    /// <summary>Adds every test namespace; the tests name them by these constants.</summary>
    public static void AddTestNamespaces(DurableObjectsOptions options) => options
        .AddNamespace<Counter>("COUNTERS")
        .AddNamespace<SecondCounter>("OTHER_COUNTERS")
        .AddNamespace<Thrower>("THROWERS")
        .AddNamespace<Gate>("GATES")
        .AddNamespace<Sequencer>("SEQUENCERS")
        .AddNamespace<Canceller>("CANCELLERS")
        .AddNamespace<Echo>("ECHOES")
        .AddNamespace<WireShapes>("WIRE_SHAPES")
        .AddNamespace<Oversize>("OVERSIZE")
        .AddNamespace<Relay>("RELAYS")
        .AddNamespace<Outer.NestedCounter>("NESTED")
        .AddNamespace<Store>("STORES")
        .AddNamespace<Alarms>("ALARMS")
        .AddNamespace<GateProbe>("GATE_PROBES")
        .AddNamespace<Fetcher>("FETCHERS")
        .AddNamespace<SocketRoom>("SOCKET_ROOMS")
        .AddNamespace<SlowSocketRoom>("SLOW_SOCKET_ROOMS");

    /// <summary>
    /// Starts a server on <paramref name="port"/> (0: any free port) with its own data directory unless
    /// given one, and on <paramref name="time"/> instead of the system clock when given; <paramref name="map"/>
    /// maps more endpoints.
    /// </summary>
    public static async Task<RunningServer> StartAsync(
        Action<DurableObjectsOptions>? configure = null, int port = 0, string? dataDirectory = null, TimeProvider? time = null,
        Action<WebApplication>? map = null)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "sgdo-tests", Guid.NewGuid().ToString("n"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
        });
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }
        builder.Services.AddDurableObjects(options =>
        {
            AddTestNamespaces(options);
            options.AddNamespace<Caller>("CALLERS");
            options.DataDirectory = dataDirectory;
            // Below the host's 5 s shutdown timeout, so that a test stopping a busy server does not wait it out.
            options.ShutdownGracePeriod = TimeSpan.FromSeconds(1);
            configure?.Invoke(options);
        });
        var app = builder.Build();
        app.MapDurableObjects();
        app.MapDurableObjectRoute<SocketRoom>("/rooms/{name}/{**rest}");
        app.MapDurableObjectRoute<SocketRoom>("/ids/{id}/{**rest}");
        app.MapDurableObjectRoute<SlowSocketRoom>("/slow/{name}/{**rest}");
        map?.Invoke(app);
        await app.StartAsync();
        // Kestrel lists its endpoints in the order they were configured.
        var urls = app.Urls.ToArray();
        return new RunningServer(app, new Uri(urls[0]), new Uri(urls[1]), dataDirectory);
    }

    public Task<DurableObjectClient> ConnectAsync() => DurableObjectClient.ConnectAsync(Address);

    public Task StopAsync() => App.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
