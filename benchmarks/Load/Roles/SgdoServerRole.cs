namespace SourceGenDO.Load.Roles;

/// <summary>
/// A SourceGenDO server hosting <see cref="BenchCounter"/>, and for the durable benchmark
/// <see cref="DurableCounter"/> and <see cref="DurableBlob"/>, as a user would host them.
/// </summary>
internal static class SgdoServerRole
{
    public const string Counters = "COUNTERS";
    public const string DurableCounters = "DURABLE_COUNTERS";
    public const string DurableBlobs = "DURABLE_BLOBS";

    public static async Task RunAsync(Arguments arguments)
    {
        TelemetryListener.Start(arguments);
        var builder = ServerLifetime.CreateBuilder(arguments);
        builder.Services.AddDurableObjects(options =>
        {
            options.AddNamespace<BenchCounter>(Counters);
            options.AddNamespace<DurableCounter>(DurableCounters);
            options.AddNamespace<DurableBlob>(DurableBlobs);
            // The durable benchmark gives each server a fresh directory (--data); the default storage
            // backend (SQLite, synchronous=FULL) keeps its files there.
            options.DataDirectory = arguments.Get("data") ?? Path.Combine(Path.GetTempPath(), "sgdo-load");
            options.IdleTimeout = TimeSpan.FromMinutes(5);
        });
        var app = builder.Build();
        app.MapDurableObjects();
        await ServerLifetime.RunUntilStdinClosesAsync(app);
    }
}
