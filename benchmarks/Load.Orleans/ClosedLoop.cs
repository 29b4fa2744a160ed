using System.Diagnostics;

namespace SourceGenDO.Load.Orleans;

/// <summary>
/// Drives a <see cref="Scenario"/>: every caller awaits one <c>Increment(1)</c> at a time, through warm-up and then
/// the measured window. A call counts when it completes inside the window.
/// </summary>
internal sealed class ClosedLoop
{
    private const int WarmingUp = 0;
    private const int Measuring = 1;
    private const int Stopped = 2;

    private readonly ICounterGrain[] _grains;
    private readonly int _callers;
    private int _phase = WarmingUp;

    private ClosedLoop(IClusterClient client, Scenario scenario)
    {
        _grains = Enumerable.Range(0, scenario.GrainCount)
            .Select(i => client.GetGrain<ICounterGrain>(scenario.GrainKey(i)))
            .ToArray();
        _callers = scenario.Callers;
    }

    public static async Task<ScenarioResult> RunAsync(
        IClusterClient client, Scenario scenario, TimeSpan warmup, TimeSpan measured, int? serverPid)
    {
        var loop = new ClosedLoop(client, scenario);
        var histograms = Enumerable.Range(0, scenario.Callers).Select(_ => new LatencyHistogram()).ToArray();

        // Task.Run so that each caller starts on the thread pool rather than running its first call inline here.
        var callers = histograms.Select((histogram, k) => Task.Run(() => loop.RunCallerAsync(k, histogram))).ToArray();

        await Task.Delay(warmup);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var server = serverPid is { } pid ? Process.GetProcessById(pid) : null;
        var serverCpuBefore = server?.TotalProcessorTime ?? TimeSpan.Zero;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var startTicks = Stopwatch.GetTimestamp();
        Volatile.Write(ref loop._phase, Measuring);

        await Task.Delay(measured);
        Volatile.Write(ref loop._phase, Stopped);
        var elapsed = Stopwatch.GetElapsedTime(startTicks);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        server?.Refresh();
        double? serverCpu = server is null ? null : Math.Round((server.TotalProcessorTime - serverCpuBefore).TotalSeconds, 3);

        await Task.WhenAll(callers);

        var merged = new LatencyHistogram();
        foreach (var histogram in histograms)
        {
            merged.Add(histogram);
        }

        return new ScenarioResult(
            ClientRole.SystemName,
            scenario.Name,
            merged.Count,
            Seconds: Math.Round(elapsed.TotalSeconds, 3),
            CallsPerSecond: Math.Round(merged.Count / elapsed.TotalSeconds, 1),
            P50Us: Math.Round(merged.ValueAtQuantileMicroseconds(0.50), 1),
            P99Us: Math.Round(merged.ValueAtQuantileMicroseconds(0.99), 1),
            ClientCpuSeconds: Math.Round(cpu.TotalSeconds, 3),
            ServerCpuSeconds: serverCpu,
            ClientAllocatedBytes: merged.Count == 0 ? null : allocated / merged.Count);
    }

    private async Task RunCallerAsync(int caller, LatencyHistogram histogram)
    {
        for (long call = 0; Volatile.Read(ref _phase) != Stopped; call++)
        {
            var grain = _grains[(caller + _callers * call) % _grains.Length];
            var start = Stopwatch.GetTimestamp();
            await grain.Increment(1);
            var ticks = Stopwatch.GetTimestamp() - start;

            if (Volatile.Read(ref _phase) == Measuring)
            {
                histogram.Record(ticks);
            }
        }
    }
}
