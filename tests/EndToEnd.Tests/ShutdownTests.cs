using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SourceGenDO.Server;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// A server stops without waiting out its shutdown timeout for connected clients of either transport:
/// once it said GOAWAY and ended the streams, the clients close their connections.
/// </summary>
public sealed class ShutdownTests
{
    // Short, so that a connection left open shows as Kestrel's log line instead of a slow test.
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(4);

    // Calls the busy clients made, to know they are under way.
    private static int _calls;

    public static TheoryData<bool, bool> TransportsAndLoads => new()
    {
        { false, false },
        { false, true },
        { true, false },
        { true, true },
    };

    [Theory]
    [MemberData(nameof(TransportsAndLoads))]
    public async Task StoppingTheServerClosesTheConnectionsOfIdleAndBusyClientsGracefully(bool grpcChannel, bool busy)
    {
        var log = new CapturedLog();
        var app = await StartServerAsync(log);
        var address = new Uri(app.Urls.First());
        var clients = new List<DurableObjectClient>();
        var load = new List<Task>();
        using var stopLoad = new CancellationTokenSource();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var client = await DurableObjectClient.ConnectAsync(address, new DurableObjectClientOptions
                {
                    HttpHandler = grpcChannel ? new SocketsHttpHandler() : null,
                });
                clients.Add(client);
                var counters = client.GetNamespace<CounterStub>("COUNTERS");
                // Every client has its stream open: a stub that made a call stays bound.
                Assert.Equal(1, await counters.GetByName($"shutdown-{i}-{Guid.NewGuid():n}").Increment());
                if (busy)
                {
                    for (var loop = 0; loop < 16; loop++)
                    {
                        var stub = counters.GetByName($"busy-{i}-{loop}-{Guid.NewGuid():n}");
                        load.Add(CallUntilStoppedAsync(stub, stopLoad.Token));
                    }
                }
            }
            if (busy)
            {
                await Eventually.True(() => Volatile.Read(ref _calls) > 1_000, "the busy clients made calls");
            }

            await app.StopAsync();

            Assert.DoesNotContain(log.Messages, message => message.Contains("failed to close gracefully", StringComparison.Ordinal));
            // Nothing hangs: the busy clients' calls end with the server (they fail as connection lost).
            await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            stopLoad.Cancel();
            await Task.WhenAll(load.Select(task => task.ContinueWith(static _ => { }, TaskScheduler.Default)));
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
            await app.DisposeAsync();
        }
    }

    private static async Task CallUntilStoppedAsync(CounterStub stub, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await stub.Increment();
                Interlocked.Increment(ref _calls);
            }
        }
        catch (Exception e) when (e is DurableObjectException or InvalidOperationException or OperationCanceledException)
        {
            // The server stopped under the calls.
        }
    }

    private static async Task<WebApplication> StartServerAsync(CapturedLog log)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Kestrel says at Debug level that connections outlived the graceful part of its shutdown.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Debug);
        builder.Logging.AddProvider(log);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddDurableObjects(options =>
        {
            options.AddNamespace<Counter>("COUNTERS");
            options.DataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-tests", Guid.NewGuid().ToString("n"));
        });
        var app = builder.Build();
        app.MapDurableObjects();
        await app.StartAsync();
        return app;
    }

    /// <summary>Keeps every message logged, for the assertions.</summary>
    private sealed class CapturedLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IEnumerable<string> Messages => _messages;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLog log, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                log._messages.Enqueue($"{category}: {formatter(state, exception)}");
        }
    }
}
