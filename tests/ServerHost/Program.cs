using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SourceGenDO.TestObjects;

// Arguments: [--keep-alive-timeout <seconds>] [--no-connection-limits] (Kestrel's connection limits
// removed, as an app may). Anything not given stays at AddDurableObjects' defaults.
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
    var keepAlive = Array.IndexOf(args, "--keep-alive-timeout");
    if (keepAlive >= 0)
    {
        kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(double.Parse(args[keepAlive + 1], System.Globalization.CultureInfo.InvariantCulture));
    }
    if (args.Contains("--no-connection-limits"))
    {
        kestrel.Limits.MaxConcurrentConnections = null;
        kestrel.Limits.MaxConcurrentUpgradedConnections = null;
    }
});
var dataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-tests", Guid.NewGuid().ToString("n"));
builder.Services.AddDurableObjects(options =>
{
    RunningServer.AddTestNamespaces(options);
    options.DataDirectory = dataDirectory;
});
var app = builder.Build();
app.MapDurableObjects();
await app.StartAsync();
Console.WriteLine($"listening {new Uri(app.Urls.First()).Port}");
// The test ends the server by closing standard input (or by killing it, if it hangs).
await Console.In.ReadToEndAsync();
await app.StopAsync();
return 0;
