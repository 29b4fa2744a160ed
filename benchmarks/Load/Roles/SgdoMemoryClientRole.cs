using System.Diagnostics;

namespace SourceGenDO.Load.Roles;

/// <summary>
/// The memory case: many objects each store one large value (10,000 x 100 KiB by default, far past the
/// server's storage cache), then every one is read back and checked. Prints <c>PROGRESS write|read N</c>
/// every 1,000 objects, so that the coordinator can sample the server's RSS as the data grows.
/// </summary>
internal static class SgdoMemoryClientRole
{
    public const int ProgressEvery = 1000;

    public static async Task<MemoryResult> RunAsync(Arguments arguments)
    {
        var objects = arguments.GetInt("objects", 10_000);
        var valueBytes = arguments.GetInt("value-kib", 100) * 1024;
        var callers = arguments.GetInt("callers", 64);
        var address = new Uri($"http://127.0.0.1:{arguments.Require("port")}");
        await using var client = await DurableObjectClient.ConnectAsync(address);
        var blobs = client.GetNamespace<DurableBlobStub>(SgdoServerRole.DurableBlobs);

        var write = Stopwatch.StartNew();
        await ForEachObjectAsync(objects, callers, "write", async i =>
        {
            await using var stub = blobs.GetByName($"blob-{i}");
            var stored = await stub.Store(Seed(i), valueBytes);
            if (stored != valueBytes)
            {
                throw new InvalidOperationException($"blob-{i} stored {stored} bytes, not {valueBytes}.");
            }
        });
        var writeSeconds = write.Elapsed.TotalSeconds;

        var read = Stopwatch.StartNew();
        long verified = 0;
        await ForEachObjectAsync(objects, callers, "read", async i =>
        {
            await using var stub = blobs.GetByName($"blob-{i}");
            var length = await stub.Load(Seed(i));
            if (length != valueBytes)
            {
                throw new InvalidOperationException($"blob-{i} read back {(length < 0 ? "other bytes than it stored" : $"{length} bytes")}, not its {valueBytes}.");
            }
            Interlocked.Increment(ref verified);
        });
        return new MemoryResult(objects, valueBytes, callers, writeSeconds, read.Elapsed.TotalSeconds, verified);
    }

    /// <summary>Each object its own byte, so a value read back from another object is caught.</summary>
    private static int Seed(int objectIndex) => objectIndex % 251;

    private static async Task ForEachObjectAsync(int objects, int callers, string phase, Func<int, Task> body)
    {
        var next = -1;
        var done = 0;
        var loops = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < objects; i = Interlocked.Increment(ref next))
            {
                await body(i).ConfigureAwait(false);
                var count = Interlocked.Increment(ref done);
                if (count % ProgressEvery == 0 || count == objects)
                {
                    Console.WriteLine($"PROGRESS {phase} {count}");
                }
            }
        })).ToArray();
        await Task.WhenAll(loops);
    }
}
