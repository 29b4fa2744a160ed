using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SourceGenDO.Load.Roles;

/// <summary>A SourceGenDO server hosting <see cref="BenchCounter"/>, as a user would host it.</summary>
internal static class SgdoServerRole
{
    public static async Task RunAsync(Arguments arguments)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, arguments.GetInt("port", 0), listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddDurableObjects(options =>
        {
            options.AddNamespace<BenchCounter>("COUNTERS");
            options.DataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-load");
            options.IdleTimeout = TimeSpan.FromMinutes(5);
        });
        var app = builder.Build();
        app.MapDurableObjects();
        await ServerLifetime.RunUntilStdinClosesAsync(app);
    }
}
