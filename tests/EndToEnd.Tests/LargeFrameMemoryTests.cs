namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// A large result leaves no large buffer behind per stream while its client stays connected: the
/// server's frame encoder shrinks back after a large frame (it used to keep the room of the stream's
/// largest result), and the client's copy of a large frame is not pooled.
/// </summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class LargeFrameMemoryTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const int WarmUpClients = 2;
    private const int Clients = 8;
    private const int Payload = 25_000_000;

    [Fact]
    public async Task ConnectedClientsThatEachReceivedALargeResultLeaveNoLargeBufferPerStream()
    {
        var clients = new List<DurableObjectClient>();
        try
        {
            // Warm-up clients first, so that what the transports pool for large messages whatever the number
            // of streams (ArrayPool.Shared keeps an array per thread and per core) is mostly in the baseline.
            var before = 0L;
            for (var i = 0; i < WarmUpClients + Clients; i++)
            {
                var client = await fixture.Server.ConnectAsync();
                clients.Add(client);
                var oversize = client.GetNamespace<OversizeStub>("OVERSIZE").GetByName(ServerFixture.UniqueName());
                Assert.Equal(Payload, (await oversize.Bytes(Payload)).Length);
                Assert.Equal(7, await oversize.Ping(7));
                if (i == WarmUpClients - 1)
                {
                    before = GC.GetTotalMemory(forceFullCollection: true);
                }
            }
            var after = GC.GetTotalMemory(forceFullCollection: true);
            // Kept per stream, the server's encoders alone would hold 32 MiB for each of the 8 clients (256 MiB);
            // the bound leaves room for the pools, which do not grow with the number of streams.
            Assert.True(after - before < 160 * 1024 * 1024,
                $"The heap grew by {(after - before) / 1024 / 1024} MiB for {Clients} connected clients that each received {Payload:N0} bytes.");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
