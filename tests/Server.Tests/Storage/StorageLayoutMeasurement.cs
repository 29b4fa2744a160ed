using System.Diagnostics;
using System.Globalization;
using SourceGenDO.Server.Storage;
using SourceGenDO.Server.Storage.Sqlite;
using Xunit.Abstractions;
using static SourceGenDO.Server.Tests.Storage.Batches;

namespace SourceGenDO.Server.Tests.Storage;

/// <summary>
/// One shared SQLite file or one file per object? Commits the writes of N objects, one write each per
/// round, with synchronous=FULL (a sync per commit), through <see cref="SqliteStorageBackend"/>:
/// (a) one shared file, one transaction for all N objects per round (what group commit does);
/// (b) one file per object, one transaction per object, one after another;
/// (c) one file per object, all N transactions at once (each file has its own writer thread, so the
///     file system may merge their syncs).
/// Run: <c>SGDO_STORAGE_MEASURE=1 dotnet test tests/Server.Tests -c Release --filter
/// FullyQualifiedName~StorageLayoutMeasurement --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class StorageLayoutMeasurement(ITestOutputHelper output)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(4);

    [MeasurementFact]
    public async Task SharedFileVersusFilePerObject()
    {
        output.WriteLine($"{Environment.ProcessorCount} cores, data under {Path.GetTempPath()}; each layout runs {Window.TotalSeconds} s.");
        output.WriteLine("| objects | layout | rounds/s | SQLite commits/s | writes/s |");
        output.WriteLine("|---:|---|---:|---:|---:|");
        foreach (var objects in (int[])[1, 10, 100, 1000])
        {
            await MeasureAsync(objects, "(a) one shared file, one transaction per round", SharedAsync);
            await MeasureAsync(objects, "(b) file per object, transactions in turn", concurrent: false);
            await MeasureAsync(objects, "(c) file per object, transactions at once", concurrent: true);
        }
    }

    private Task MeasureAsync(int objects, string layout, bool concurrent) =>
        MeasureAsync(objects, layout, (directory, addresses) => PerObjectAsync(directory, addresses, concurrent));

    private async Task MeasureAsync(int objects, string layout, Func<string, ObjectAddress[], Task<(long Rounds, long Commits, TimeSpan Elapsed)>> run)
    {
        using var directory = new TempDirectory();
        var addresses = Enumerable.Range(0, objects).Select(i => Address($"m{i}")).ToArray();
        var (rounds, commits, elapsed) = await run(directory.Path, addresses);
        var seconds = elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {objects:N0} | {layout} | {rounds / seconds:N0} | {commits / seconds:N0} | {rounds * objects / seconds:N0} |"));
    }

    private static async Task<(long, long, TimeSpan)> SharedAsync(string directory, ObjectAddress[] addresses)
    {
        await using var backend = Open(directory);
        long rounds = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Window)
        {
            await backend.CommitAsync([.. addresses.Select(address => Round(address, rounds))], CancellationToken.None);
            rounds++;
        }
        var elapsed = clock.Elapsed;
        await CheckAsync(backend, addresses, rounds);
        return (rounds, rounds, elapsed);
    }

    private static async Task<(long, long, TimeSpan)> PerObjectAsync(string directory, ObjectAddress[] addresses, bool concurrent)
    {
        var backends = addresses.Select((_, i) => Open(Path.Combine(directory, i.ToString(CultureInfo.InvariantCulture)))).ToArray();
        try
        {
            long rounds = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < Window)
            {
                if (concurrent)
                {
                    await Task.WhenAll(backends.Select((backend, i) => backend.CommitAsync([Round(addresses[i], rounds)], CancellationToken.None).AsTask()));
                }
                else
                {
                    for (var i = 0; i < backends.Length; i++)
                    {
                        await backends[i].CommitAsync([Round(addresses[i], rounds)], CancellationToken.None);
                    }
                }
                rounds++;
            }
            var elapsed = clock.Elapsed;
            for (var i = 0; i < backends.Length; i++)
            {
                await CheckAsync(backends[i], [addresses[i]], rounds);
            }
            return (rounds, rounds * addresses.Length, elapsed);
        }
        finally
        {
            foreach (var backend in backends)
            {
                await backend.DisposeAsync();
            }
        }
    }

    private static SqliteStorageBackend Open(string directory)
    {
        var backend = new SqliteStorageBackend(new SqliteStorageOptions { DataDirectory = directory, ReadConnections = 1 });
        backend.OpenAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return backend;
    }

    private static ObjectWriteBatch Round(ObjectAddress address, long round) =>
        Write(address, ("counter", round.ToString(CultureInfo.InvariantCulture)));

    // The measurement counts only if every object holds its last round's value.
    private static async Task CheckAsync(IStorageBackend backend, ObjectAddress[] addresses, long rounds)
    {
        foreach (var address in addresses)
        {
            Assert.Equal((rounds - 1).ToString(CultureInfo.InvariantCulture), Text((await backend.GetAsync(address, ["counter"], CancellationToken.None))[0]));
        }
    }
}
