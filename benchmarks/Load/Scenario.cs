using System.Diagnostics;

namespace SourceGenDO.Load;

/// <summary>
/// The load shapes every system is measured with: closed loops of callers, each awaiting one call at a time.
/// A <paramref name="Durable"/> scenario's every call is one acknowledged durable write.
/// </summary>
internal sealed record Scenario(string Name, int Callers, int Objects, bool Durable = false)
{
    /// <summary>The scenarios of the <c>run</c> command, on in-memory counters.</summary>
    public static readonly Scenario[] All =
    [
        new("seq", 1, 1),
        new("p64", 64, 1),
        new("p1024", 1024, 1),
        new("objects1000", 64, 1000),
    ];

    /// <summary>The scenarios of the <c>durable</c> command: each call one durable increment, or one SQLite transaction for the baseline.</summary>
    public static readonly Scenario[] DurableAll =
    [
        new("durable-seq", 1, 1, Durable: true),
        new("durable-p64", 64, 1, Durable: true),
        new("durable-objects1000", 64, 1000, Durable: true),
    ];

    public static Scenario Named(string name) =>
        All.Concat(DurableAll).FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"Unknown scenario \"{name}\"; known: {string.Join(", ", All.Concat(DurableAll).Select(s => s.Name))}.");

    /// <summary>The object caller <paramref name="caller"/> calls on its <paramref name="callNumber"/>-th call.</summary>
    public int ObjectFor(int caller, long callNumber) => (int)((caller + Callers * callNumber) % Objects);

    /// <summary>
    /// Runs <paramref name="call"/> in a closed loop from every caller: a warm-up, then a measured window
    /// in which every completed call's latency is recorded. The result's <see cref="ScenarioResult.CompletedCalls"/>
    /// counts every call, warm-up included, so that a durable role can check its store against it.
    /// </summary>
    public async Task<ScenarioResult> RunAsync(string system, Func<int, long, Task> call, double warmupSeconds, double seconds, int? serverPid)
    {
        var histograms = Enumerable.Range(0, Callers).Select(_ => new LatencyHistogram()).ToArray();
        var completed = new long[Callers];
        var measuring = false;
        var stopping = false;
        var loops = Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            var histogram = histograms[caller];
            long n = 0;
            for (; !Volatile.Read(ref stopping); n++)
            {
                var start = Stopwatch.GetTimestamp();
                await call(caller, n).ConfigureAwait(false);
                if (Volatile.Read(ref measuring))
                {
                    histogram.Record(Stopwatch.GetTimestamp() - start);
                }
            }
            completed[caller] = n;
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(warmupSeconds));
        var server = serverPid is { } pid ? Process.GetProcessById(pid) : null;
        var serverCpu = server?.TotalProcessorTime ?? TimeSpan.Zero;
        var self = Process.GetCurrentProcess();
        var clientCpu = self.TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        var watch = Stopwatch.StartNew();
        Volatile.Write(ref measuring, true);
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        Volatile.Write(ref measuring, false);
        var elapsed = watch.Elapsed.TotalSeconds;
        self.Refresh();
        var clientCpuSeconds = (self.TotalProcessorTime - clientCpu).TotalSeconds;
        var allocatedBytes = GC.GetTotalAllocatedBytes(precise: false) - allocated;
        server?.Refresh();
        double? serverCpuSeconds = server is null ? null : (server.TotalProcessorTime - serverCpu).TotalSeconds;
        Volatile.Write(ref stopping, true);
        await Task.WhenAll(loops);

        var merged = new LatencyHistogram();
        foreach (var histogram in histograms)
        {
            merged.Add(histogram);
        }
        return new ScenarioResult(system, Name, merged.Count, elapsed, merged.Count / elapsed,
            merged.PercentileMicroseconds(0.50), merged.PercentileMicroseconds(0.99), clientCpuSeconds, serverCpuSeconds,
            merged.Count == 0 ? null : allocatedBytes / merged.Count, CompletedCalls: completed.Sum());
    }
}
