using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SourceGenDO.Load.Coordinator;

/// <summary>Collects the durable command's measurements and renders its markdown table, the targets and the JSON file.</summary>
internal sealed class DurableReport(string environment, int rounds, double seconds, string dataRoot, string disk, string baselineConnections)
{
    /// <summary>The server's storage cache bound the memory case runs with: <see cref="Server.DurableObjectsOptions.StorageCacheBytes"/>' default.</summary>
    private static readonly long CacheBytes = new Server.DurableObjectsOptions().StorageCacheBytes;

    /// <summary>
    /// The targets of issue 10: which SourceGenDO scenario is compared with which baseline scenario, and
    /// the ratio it must reach. p64 is compared with the one-caller baseline: the output gate and write
    /// coalescing must beat one sync per call; 1,000 objects with the 64-writer baseline: group commit
    /// must beat SQLite's one writer at a time.
    /// </summary>
    private static readonly (string Ours, string Baseline, string BaselineLabel, double Goal)[] Targets =
    [
        ("durable-seq", "durable-seq", "1 caller", 0.9),
        ("durable-p64", "durable-seq", "1 caller", 10),
        ("durable-objects1000", "durable-objects1000", "64 writers, 1,000 rows", 10),
    ];

    private readonly List<(int Round, Measurement Measurement, double LoadAverage)> _measurements = [];

    public MemoryMeasurement? Memory { get; set; }

    public void Add(int round, Measurement measurement, double loadAverage) => _measurements.Add((round, measurement, loadAverage));

    public string ToJson() => JsonSerializer.Serialize(new
    {
        environment,
        rounds,
        seconds,
        dataRoot,
        disk,
        baselineConnections,
        measurements = _measurements.Select(m => new { m.Round, m.Measurement.System, m.Measurement.Scenario, m.Measurement.Result, m.Measurement.IdleBytes, m.Measurement.PeakBytes, m.LoadAverage }),
        memory = Memory,
    }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {environment}. Data directory: `{dataRoot}` ({disk}), a fresh one per measurement, for the server's store and the baseline's file alike.");
        text.AppendLine();
        if (_measurements.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{rounds} interleaved rounds of {seconds:0.#} s per system and scenario; medians over rounds. `sourcegendo`: server and client in separate processes on loopback, every call one durable `Increment` (SQLite backend, synchronous=FULL). `{DurableRun.Baseline}`: in the client process, no network, every call one committed SQLite transaction (an UPSERT of the counter row; WAL, synchronous=FULL), the writers {(baselineConnections == "one" ? "taking turns on one connection" : "each on its own connection")}. The machine's 1-minute load average at the start of the measurements: {_measurements.Min(m => m.LoadAverage):0.0} to {_measurements.Max(m => m.LoadAverage):0.0} (other work shares its {System.Environment.ProcessorCount} cores and its disk).");
            text.AppendLine();
            text.AppendLine("| scenario | system | callers | objects (rows) | calls/s | p50 µs | p99 µs | client CPU µs/call | server CPU µs/call | server RSS peak |");
            text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var scenario in Scenarios())
            {
                var shape = Scenario.Named(scenario);
                foreach (var system in SystemsIn(scenario))
                {
                    var runs = Runs(scenario, system).ToList();
                    var peak = system == DurableRun.Baseline ? "-" : $"{runs.Max(r => r.PeakBytes) / 1048576.0:N1} MiB";
                    var serverCpu = system == DurableRun.Baseline ? "-" : Median(runs.Select(r => PerCall(r.Result.ServerCpuSeconds ?? 0, r.Result.Calls))).ToString("N2", CultureInfo.InvariantCulture);
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"| {scenario} | {system} | {shape.Callers} | {shape.Objects:N0} | {Median(runs.Select(r => r.Result.CallsPerSecond)):N0} | {Median(runs.Select(r => r.Result.P50Us)):N1} | {Median(runs.Select(r => r.Result.P99Us)):N1} | {Median(runs.Select(r => PerCall(r.Result.ClientCpuSeconds, r.Result.Calls))):N2} | {serverCpu} | {peak} |");
                }
            }

            text.AppendLine();
            text.AppendLine("Targets: SourceGenDO's calls/s divided by the baseline's of the same round, per round and the median.");
            text.AppendLine();
            text.AppendLine("| SourceGenDO | vs sqlite-tx | per round | median | target | met |");
            text.AppendLine("|---|---|---|---:|---:|---|");
            foreach (var (ours, baseline, label, goal) in Targets)
            {
                AppendRatio(text, ours, baseline, $"{baseline}, {label}", goal);
            }
            // Not a target: the same 64 callers against the baseline's 64 writers of one row.
            AppendRatio(text, "durable-p64", "durable-p64", "durable-p64, 64 writers, 1 row", null);
        }

        if (Memory is { } memory)
        {
            var result = memory.Result;
            var data = (double)result.Objects * result.ValueBytes;
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Memory: {result.Objects:N0} objects each store {result.ValueBytes / 1024:N0} KiB ({data / 1048576:N0} MiB in all; {memory.StoredBytes / 1048576.0:N0} MiB on disk) through {result.Callers} callers, then every one is read back and checked ({result.VerifiedObjects:N0} verified). Storage cache bound: {CacheBytes / 1048576} MiB (the default). Writing took {result.WriteSeconds:N1} s ({result.Objects / result.WriteSeconds:N0} objects/s), reading back {result.ReadSeconds:N1} s ({result.Objects / result.ReadSeconds:N0} objects/s).");
            text.AppendLine();
            text.AppendLine("| server RSS | MiB |");
            text.AppendLine("|---|---:|");
            text.AppendLine(CultureInfo.InvariantCulture, $"| idle, before the first object | {memory.IdleBytes / 1048576.0:N0} |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| peak while writing (sampled every 100 ms) | {memory.PeakWriteBytes / 1048576.0:N0} |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| peak while reading back | {memory.PeakReadBytes / 1048576.0:N0} |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| peak (the kernel's VmHWM) | {memory.HighWaterBytes / 1048576.0:N0} |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| final, 3 s after the last read | {memory.FinalBytes / 1048576.0:N0} |");
            text.AppendLine();
            text.AppendLine("| after objects | " + string.Join(" | ", memory.Checkpoints.Select(c => $"{c.Phase} {c.Objects:N0}")) + " |");
            text.AppendLine("|---|" + string.Concat(memory.Checkpoints.Select(_ => "---:|")));
            text.AppendLine("| server RSS MiB | " + string.Join(" | ", memory.Checkpoints.Select(c => (c.ResidentBytes / 1048576.0).ToString("N0", CultureInfo.InvariantCulture))) + " |");
            // The first checkpoint at which the objects have stored more than the cache holds: a bounded cache
            // is full there, so what the server gains after it is what the data, not the cache, costs.
            var full = memory.Checkpoints.FirstOrDefault(c => c.Phase == "write" && (long)c.Objects * result.ValueBytes >= CacheBytes);
            text.AppendLine();
            if (full is null)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"The objects stored less than the cache bound ({CacheBytes / 1048576} MiB) in all: flatness not measured.");
            }
            else
            {
                var growth = Math.Max(memory.PeakWriteBytes, memory.PeakReadBytes) - full.ResidentBytes;
                var stored = (double)full.Objects * result.ValueBytes;
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"From {full.Objects:N0} objects ({stored / 1048576:N0} MiB stored, past the cache bound) to the end, the server's RSS grew at most {growth / 1048576.0:N0} MiB while the data grew {(data - stored) / 1048576:N0} MiB: {(growth < CacheBytes ? "flat" : "NOT flat")} (target: growth under the cache bound, {CacheBytes / 1048576} MiB).");
            }
        }
        return text.ToString();
    }

    private void AppendRatio(StringBuilder text, string ours, string baseline, string label, double? goal)
    {
        var ratios = RoundRatios(ours, baseline).ToList();
        if (ratios.Count == 0)
        {
            return;
        }
        var median = Median(ratios);
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {ours} | {label} | {string.Join(", ", ratios.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))} | {median:0.00}x | {(goal is { } g ? $">= {g:0.#}x" : "-")} | {(goal is { } h ? (median >= h ? "yes" : "NO") : "-")} |");
    }

    private IEnumerable<string> Scenarios() => _measurements.Select(m => m.Measurement.Scenario).Distinct();

    private IEnumerable<string> SystemsIn(string scenario) =>
        _measurements.Where(m => m.Measurement.Scenario == scenario).Select(m => m.Measurement.System).Distinct();

    private IEnumerable<Measurement> Runs(string scenario, string system) =>
        _measurements.Where(m => m.Measurement.Scenario == scenario && m.Measurement.System == system).Select(m => m.Measurement);

    private IEnumerable<double> RoundRatios(string ours, string baseline)
    {
        foreach (var round in _measurements.Select(m => m.Round).Distinct())
        {
            var mine = _measurements.FirstOrDefault(m => m.Round == round && m.Measurement.Scenario == ours && m.Measurement.System == Systems.SourceGenDO).Measurement;
            var theirs = _measurements.FirstOrDefault(m => m.Round == round && m.Measurement.Scenario == baseline && m.Measurement.System == DurableRun.Baseline).Measurement;
            if (mine is not null && theirs is not null && theirs.Result.CallsPerSecond > 0)
            {
                yield return mine.Result.CallsPerSecond / theirs.Result.CallsPerSecond;
            }
        }
    }

    private static double PerCall(double cpuSeconds, long calls) => calls == 0 ? 0 : cpuSeconds * 1e6 / calls;

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
