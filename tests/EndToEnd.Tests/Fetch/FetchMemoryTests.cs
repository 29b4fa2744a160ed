using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace SourceGenDO.EndToEnd.Tests.Fetch;

/// <summary>
/// A 64 MiB body each way, made as it is read (never an array of its size): half way through, the heap
/// of the process, which holds the server and the client, has grown by a small fraction of the body.
/// </summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class FetchMemoryTests(ServerFixture fixture, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    private const long Body = 64L * 1024 * 1024;
    private const long Half = Body / 2;
    // Both bodies in flight are bounded by their windows (256 KiB) plus the pools' arrays; 16 MiB is a
    // quarter of the body, far above what the transport holds and far below what buffering would take.
    private const long MaxGrowth = 16L * 1024 * 1024;

    [Fact]
    public async Task UploadingA64MiBBodyKeepsTheHeapFarBelowItsSize()
    {
        var name = ServerFixture.UniqueName("upload");
        var stub = fixture.Client.GetNamespace<FetcherStub>("FETCHERS").GetByName(name);
        // Warms the pools and the code paths, so that the baseline holds what any stream keeps.
        using (var warm = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/count") { Content = new GeneratedContent(4 * 1024 * 1024, name + "-warm") }))
        {
            Assert.Equal($"{4 * 1024 * 1024} match", await warm.Content.ReadAsStringAsync());
        }
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var rssBefore = Process.GetCurrentProcess().WorkingSet64;

        using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/count?measure") { Content = new GeneratedContent(Body, name + "-up") });

        Assert.Equal($"{Body} match", await response.Content.ReadAsStringAsync());
        var halfWay = long.Parse(Fetcher.Observed[name + ":heap"], CultureInfo.InvariantCulture);
        Report("upload", before, halfWay, rssBefore);
        Assert.True(halfWay - before < MaxGrowth, $"The heap grew by {(halfWay - before) / 1024 / 1024} MiB half way through a 64 MiB upload.");
    }

    [Fact]
    public async Task DownloadingA64MiBBodyKeepsTheHeapFarBelowItsSize()
    {
        var stub = fixture.Client.GetNamespace<FetcherStub>("FETCHERS").GetByName(ServerFixture.UniqueName("download"));
        using (var warm = await stub.FetchAsync("http://do/generate?" + (4 * 1024 * 1024)))
        {
            Assert.Equal(4 * 1024 * 1024, (await warm.Content.ReadAsByteArrayAsync()).Length);
        }
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var rssBefore = Process.GetCurrentProcess().WorkingSet64;

        using var response = await stub.FetchAsync("http://do/generate?" + Body);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[81920];
        long count = 0;
        var matches = true;
        var halfWay = 0L;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            matches &= GeneratedContent.Matches(buffer.AsSpan(0, read), count);
            if (count < Half && count + read >= Half)
            {
                halfWay = GC.GetTotalMemory(forceFullCollection: true);
                Report("download", before, halfWay, rssBefore);
            }
            count += read;
        }

        Assert.Equal(Body, count);
        Assert.True(matches);
        Assert.True(halfWay - before < MaxGrowth, $"The heap grew by {(halfWay - before) / 1024 / 1024} MiB half way through a 64 MiB download.");
    }

    private void Report(string what, long before, long halfWay, long rssBefore) => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{what}: managed heap {before / 1024.0 / 1024:F1} MiB before, {halfWay / 1024.0 / 1024:F1} MiB half way (+{(halfWay - before) / 1024.0 / 1024:F1}); "
        + $"RSS {rssBefore / 1024.0 / 1024:F0} MiB before, {Process.GetCurrentProcess().WorkingSet64 / 1024.0 / 1024:F0} MiB half way"));
}
