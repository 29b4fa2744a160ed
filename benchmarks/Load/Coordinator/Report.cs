using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SourceGenDO.Load.Coordinator;

/// <summary>Collects every measurement of a run and renders the markdown table and the JSON file.</summary>
internal sealed class Report(string environment, int rounds, double seconds)
{
    private readonly List<(int Round, Measurement Measurement)> _measurements = [];
    private readonly Dictionary<string, List<double>> _firstCalls = [];

    public IReadOnlyList<MicroResult>? Micro { get; set; }

    public void Add(int round, Measurement measurement) => _measurements.Add((round, measurement));

    public void AddFirstCall(string system, double milliseconds)
    {
        if (!_firstCalls.TryGetValue(system, out var list))
        {
            _firstCalls[system] = list = [];
        }
        list.Add(milliseconds);
    }

    public string ToJson() => JsonSerializer.Serialize(new
    {
        environment,
        rounds,
        seconds,
        measurements = _measurements.Select(m => new { m.Round, m.Measurement.System, m.Measurement.Scenario, m.Measurement.Result, m.Measurement.IdleBytes, m.Measurement.PeakBytes }),
        firstCallMilliseconds = _firstCalls,
        micro = Micro,
    }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {environment}. {rounds} interleaved rounds of {seconds:0.#} s per system and scenario; medians over rounds; server and client in separate processes on loopback.");
        text.AppendLine();
        text.AppendLine("| scenario | system | calls/s | p50 µs | p99 µs | client CPU µs/call | server CPU µs/call | client alloc B/call |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var scenario in Scenarios())
        {
            foreach (var system in SystemsIn(scenario))
            {
                var runs = Runs(scenario, system).ToList();
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {scenario} | {system} | {Median(runs.Select(r => r.Result.CallsPerSecond)):N0} | {Median(runs.Select(r => r.Result.P50Us)):N1} | {Median(runs.Select(r => r.Result.P99Us)):N1} | {Median(runs.Select(r => PerCall(r.Result.ClientCpuSeconds, r.Result.Calls))):N2} | {Median(runs.Select(r => PerCall(r.Result.ServerCpuSeconds ?? 0, r.Result.Calls))):N2} | {Median(runs.Select(r => (double)(r.Result.ClientAllocatedBytes ?? 0))):N0} |");
            }
        }

        text.AppendLine();
        text.AppendLine("SourceGenDO's calls/s divided by each baseline's, per round and the median:");
        text.AppendLine();
        text.AppendLine("| scenario | vs | per round | median |");
        text.AppendLine("|---|---|---|---:|");
        foreach (var scenario in Scenarios())
        {
            foreach (var baseline in SystemsIn(scenario).Where(s => s != Systems.SourceGenDO))
            {
                var ratios = RoundRatios(scenario, baseline).ToList();
                if (ratios.Count == 0)
                {
                    continue;
                }
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {scenario} | {baseline} | {string.Join(", ", ratios.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))} | {Median(ratios):0.00}x |");
            }
        }

        text.AppendLine();
        text.AppendLine("| server memory | idle (median) | peak during objects1000 (max) |");
        text.AppendLine("|---|---:|---:|");
        foreach (var system in _measurements.Select(m => m.Measurement.System).Distinct())
        {
            var idle = Median(_measurements.Where(m => m.Measurement.System == system).Select(m => (double)m.Measurement.IdleBytes));
            var peaks = _measurements.Where(m => m.Measurement.System == system && m.Measurement.Scenario == "objects1000").Select(m => m.Measurement.PeakBytes).ToList();
            text.AppendLine(CultureInfo.InvariantCulture, $"| {system} | {idle / 1048576:N1} MiB | {(peaks.Count == 0 ? "-" : (peaks.Max() / 1048576.0).ToString("N1", CultureInfo.InvariantCulture) + " MiB")} |");
        }

        if (_firstCalls.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("| time from server process start to first successful call | median | rounds |");
            text.AppendLine("|---|---:|---|");
            foreach (var (system, values) in _firstCalls)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {system} | {Median(values):N0} ms | {string.Join(", ", values.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))} |");
            }
        }

        if (Micro is { Count: > 0 })
        {
            text.AppendLine();
            text.AppendLine("| micro benchmark | mean | allocated/op |");
            text.AppendLine("|---|---:|---:|");
            foreach (var micro in Micro)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {micro.Name} | {FormatNanoseconds(micro.MeanNanoseconds)} | {micro.AllocatedBytes:N0} B |");
            }
        }
        return text.ToString();
    }

    private IEnumerable<string> Scenarios() => _measurements.Select(m => m.Measurement.Scenario).Distinct();

    private IEnumerable<string> SystemsIn(string scenario) =>
        _measurements.Where(m => m.Measurement.Scenario == scenario).Select(m => m.Measurement.System).Distinct();

    private IEnumerable<Measurement> Runs(string scenario, string system) =>
        _measurements.Where(m => m.Measurement.Scenario == scenario && m.Measurement.System == system).Select(m => m.Measurement);

    private IEnumerable<double> RoundRatios(string scenario, string baseline)
    {
        foreach (var round in _measurements.Select(m => m.Round).Distinct())
        {
            var ours = _measurements.FirstOrDefault(m => m.Round == round && m.Measurement.Scenario == scenario && m.Measurement.System == Systems.SourceGenDO).Measurement;
            var theirs = _measurements.FirstOrDefault(m => m.Round == round && m.Measurement.Scenario == scenario && m.Measurement.System == baseline).Measurement;
            if (ours is not null && theirs is not null && theirs.Result.CallsPerSecond > 0)
            {
                yield return ours.Result.CallsPerSecond / theirs.Result.CallsPerSecond;
            }
        }
    }

    private static double PerCall(double cpuSeconds, long calls) => calls == 0 ? 0 : cpuSeconds * 1e6 / calls;

    private static string FormatNanoseconds(double nanoseconds) => nanoseconds switch
    {
        >= 1e6 => (nanoseconds / 1e6).ToString("N1", CultureInfo.InvariantCulture) + " ms",
        >= 1e3 => (nanoseconds / 1e3).ToString("N2", CultureInfo.InvariantCulture) + " µs",
        _ => nanoseconds.ToString("N1", CultureInfo.InvariantCulture) + " ns",
    };

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
