using System.Net;
using CounterSample;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SourceGenDO;

// 1. Host: an ordinary ASP.NET Core app on a free loopback port (gRPC needs an HTTP/2 endpoint).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
var dataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-counter-sample");
builder.Services.AddDurableObjects(options =>
{
    options.AddNamespace<Counter>("COUNTERS");
    // Objects are stored in SQLite here: run the sample twice and the counts go on where they stopped.
    options.DataDirectory = dataDirectory;
});
var app = builder.Build();
app.MapDurableObjects();
await app.StartAsync();
var address = new Uri(app.Urls.First());
Console.WriteLine($"Server listening on {address}, storing objects in {dataDirectory}");

// 2. Call: a client, a namespace, a stub; every call below is gRPC over loopback.
await using var client = await DurableObjectClient.ConnectAsync(address);
var counters = client.GetNamespace<CounterStub>("COUNTERS");
CounterStub apples = counters.Get(counters.IdFromName("apples"));
var start = await apples.Increment(5);
Console.WriteLine($"apples.Increment(5) = {start}{(start > 5 ? " (stored by an earlier run)" : "")}");

// E-order: calls through one stub start in the order they were made, even without awaiting each.
var calls = Enumerable.Range(0, 1_000).Select(_ => apples.Increment()).ToArray();
var results = await Task.WhenAll(calls);
var inOrder = results.SequenceEqual(Enumerable.Range(1, 1_000).Select(i => start + i));
Console.WriteLine($"1,000 un-awaited increments returned {results[0]}..{results[^1]} in call order: {inOrder}");

// Exceptions cross with their type and message, and the stub stays usable.
var pears = counters.GetByName("pears");
try
{
    await pears.Decrement(1_000_000);
}
catch (InvalidOperationException e) when (e.IsRemote())
{
    Console.WriteLine($"pears.Decrement(1_000_000) threw {e.GetType().Name}: {e.Message}");
}
Console.WriteLine($"pears.Increment() = {await pears.Increment()} (the stub still works)");

await app.StopAsync();
return inOrder ? 0 : 1;
