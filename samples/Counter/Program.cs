using System.Net;
using CounterSample;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SourceGenDO;

// 1. Host: an ordinary ASP.NET Core app on a free loopback port (gRPC needs an HTTP/2 endpoint).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
builder.Services.AddDurableObjects(options =>
{
    options.AddNamespace<Counter>("COUNTERS");
    options.DataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-counter-sample");
});
var app = builder.Build();
app.MapDurableObjects();
await app.StartAsync();
var address = new Uri(app.Urls.First());
Console.WriteLine($"Server listening on {address}");

// 2. Call: a client, a namespace, a stub; every call below is gRPC over loopback.
await using var client = await DurableObjectClient.ConnectAsync(address);
var counters = client.GetNamespace<CounterStub>("COUNTERS");
CounterStub apples = counters.Get(counters.IdFromName("apples"));
Console.WriteLine($"apples.Increment(5) = {await apples.Increment(5)}");

// E-order: calls through one stub start in the order they were made, even without awaiting each.
var calls = Enumerable.Range(0, 1_000).Select(_ => apples.Increment()).ToArray();
var results = await Task.WhenAll(calls);
var inOrder = results.SequenceEqual(Enumerable.Range(6, 1_000).Select(i => (long)i));
Console.WriteLine($"1,000 un-awaited increments returned {results[0]}..{results[^1]} in call order: {inOrder}");

// Exceptions cross with their type and message, and the stub stays usable.
var pears = counters.GetByName("pears");
try
{
    await pears.Decrement(1);
}
catch (InvalidOperationException e) when (e.IsRemote())
{
    Console.WriteLine($"pears.Decrement(1) threw {e.GetType().Name}: {e.Message}");
}
Console.WriteLine($"pears.Increment() = {await pears.Increment()} (the stub still works)");

await app.StopAsync();
return inOrder ? 0 : 1;
