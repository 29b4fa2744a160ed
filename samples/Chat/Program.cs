using System.Globalization;
using System.Net;
using ChatSample;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SourceGenDO;

// Arguments: [--port <n>] (default 8787; 0 picks any free port) [--data-directory <path>] (default
// <temp>/sgdo-chat-sample, so rooms keep their history across runs) [--idle-timeout <seconds>] (how long a
// room without events stays in memory before it hibernates; default the runtime's 10 s).
string? Argument(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

var port = Argument("--port") is { } portText ? int.Parse(portText, CultureInfo.InvariantCulture) : 8787;
var dataDirectory = Argument("--data-directory") ?? Path.Combine(Path.GetTempPath(), "sgdo-chat-sample");
var idleTimeout = Argument("--idle-timeout") is { } idleText
    ? TimeSpan.FromSeconds(double.Parse(idleText, CultureInfo.InvariantCulture))
    : (TimeSpan?)null;

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("ChatSample", LogLevel.Information);
// Browsers speak WebSockets over HTTP/1.1 on a cleartext port; loopback only.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http1));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddDurableObjects(options =>
{
    options.AddNamespace<ChatRoom>("ROOMS");
    options.DataDirectory = dataDirectory;
    // The room answers messages over its own 8 KiB bound with an error; past this the runtime closes the socket (1009).
    options.MaxWebSocketMessageBytes = 64 * 1024;
    if (idleTimeout is { } timeout)
    {
        options.IdleTimeout = timeout;
    }
});

var app = builder.Build();
app.MapChatPage("/");
// Every request under /rooms/{name}/ goes to the room of that name (the route accepts WebSocket upgrades
// itself, no UseWebSockets needed): the page connects to /rooms/{name}/websocket.
app.MapDurableObjectRoute<ChatRoom>("/rooms/{name}/{**rest}");

if (port != 0 && !IsFree(port))
{
    Console.Error.WriteLine($"Port {port} is in use: run with --port <n> (0 picks any free port).");
    return 1;
}
await app.StartAsync();
Console.WriteLine($"Chat server listening on {new Uri(app.Urls.First())} (open it in a browser; rooms are stored in {dataDirectory}). Ctrl+C stops it.");
await app.WaitForShutdownAsync();
return 0;

// Asked before starting, so that a port in use is one line rather than the host's failure log.
static bool IsFree(int port)
{
    var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
    try
    {
        probe.Start();
        return true;
    }
    catch (System.Net.Sockets.SocketException)
    {
        return false;
    }
    finally
    {
        probe.Stop();
    }
}
