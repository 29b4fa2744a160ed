using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SourceGenDO.Load.Roles;

/// <summary>How every server role runs: start, print READY, stop when the coordinator closes standard input.</summary>
internal static class ServerLifetime
{
    /// <summary>An app on the role's loopback port, HTTP/2 only (gRPC over cleartext), logging warnings only.</summary>
    public static WebApplicationBuilder CreateBuilder(Arguments arguments)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, arguments.GetInt("port", 0), listen => listen.Protocols = HttpProtocols.Http2));
        return builder;
    }

    public static async Task RunUntilStdinClosesAsync(WebApplication app)
    {
        await app.StartAsync();
        Console.WriteLine("READY");
        Console.Out.Flush();
        await Task.Run(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }
        });
        await app.StopAsync();
        if (Environment.GetEnvironmentVariable("SGDO_LOAD_GC_REPORT") is not null)
        {
            Console.Error.WriteLine($"server allocated {GC.GetTotalAllocatedBytes() / 1048576.0:N1} MiB, gen0 {GC.CollectionCount(0)} gen1 {GC.CollectionCount(1)} gen2 {GC.CollectionCount(2)}, heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:N1} MiB");
        }
    }
}
