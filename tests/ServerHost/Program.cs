using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SourceGenDO.TestObjects;

// Arguments: [--keep-alive-timeout <seconds>] [--no-connection-limits] (Kestrel's connection limits
// removed, as an app may) [--data-directory <path>] (reused across restarts, so a server started again
// after a crash sees what the killed one stored; default a fresh temporary directory) [--port <n>]
// (default any free port). Anything not given stays at AddDurableObjects' defaults.
string? Argument(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

var port = Argument("--port") is { } portText ? int.Parse(portText, System.Globalization.CultureInfo.InvariantCulture) : 0;
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
    if (Argument("--keep-alive-timeout") is { } keepAlive)
    {
        kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(double.Parse(keepAlive, System.Globalization.CultureInfo.InvariantCulture));
    }
    if (args.Contains("--no-connection-limits"))
    {
        kestrel.Limits.MaxConcurrentConnections = null;
        kestrel.Limits.MaxConcurrentUpgradedConnections = null;
    }
});
var dataDirectory = Argument("--data-directory") ?? Path.Combine(Path.GetTempPath(), "sgdo-tests", Guid.NewGuid().ToString("n"));
builder.Services.AddDurableObjects(options =>
{
    RunningServer.AddTestNamespaces(options);
    // Only the child-process tests use it; their alarm outlives the process that set it.
    options.AddNamespace<NamedAlarm>("NAMED_ALARMS");
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
