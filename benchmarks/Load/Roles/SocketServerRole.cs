using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Load.Roles;

/// <summary>
/// The server of the socket memory benchmark: <see cref="BenchSocketRoom"/> behind a route on an HTTP/1.1
/// port, hibernating its rooms or keeping them live (<c>--hibernate true|false</c>), each room instance
/// holding <c>--room-kib</c> KiB of state. On the line "measure"
/// on standard input it collects garbage and prints "MEASURED live-instances sockets managed-bytes".
/// </summary>
internal static class SocketServerRole
{
    public const string Rooms = "SOCKET_ROOMS";

    public static async Task RunAsync(Arguments arguments)
    {
        BenchSocketRoom.StateBytes = arguments.GetInt("room-kib", 0) * 1024;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, arguments.GetInt("port", 0), listen => listen.Protocols = HttpProtocols.Http1);
            // The defaults split the open-file budget evenly between plain and upgraded connections; this
            // server holds mostly upgraded ones.
            kestrel.Limits.MaxConcurrentUpgradedConnections = arguments.GetInt("max-sockets", 12_000);
            kestrel.Limits.MaxConcurrentConnections = 2_000;
        });
        builder.Services.AddDurableObjects(options =>
        {
            options.AddNamespace<BenchSocketRoom>(Rooms);
            options.UseInMemoryStorage();
            options.HibernateWebSockets = bool.Parse(arguments.Get("hibernate") ?? "true");
            options.IdleTimeout = TimeSpan.FromSeconds(arguments.GetDouble("idle-seconds", 2));
        });
        var app = builder.Build();
        app.MapDurableObjectRoute<BenchSocketRoom>("/rooms/{name}");
        var host = app.Services.GetRequiredService<DurableObjectHost>().Namespaces.Single();
        await app.StartAsync();
        Console.WriteLine("READY");
        Console.Out.Flush();
        await Task.Run(() =>
        {
            while (Console.In.ReadLine() is { } line)
            {
                if (line == "measure")
                {
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    GC.WaitForPendingFinalizers();
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"MEASURED {host.ActivationCount} {host.Sockets.Count} {GC.GetTotalMemory(forceFullCollection: false)}"));
                    Console.Out.Flush();
                }
            }
        });
        await app.StopAsync();
    }
}
