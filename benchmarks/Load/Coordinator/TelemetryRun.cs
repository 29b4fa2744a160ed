using System.Globalization;
using System.Text;

namespace SourceGenDO.Load.Coordinator;

/// <summary>
/// The <c>telemetry</c> command: the same SourceGenDO call scenarios with nobody listening to its
/// ActivitySource and Meter, with a listener that records every instrument, and with one that also
/// records every span (<see cref="TelemetryListener"/>: it does little with what it gets), in
/// interleaved rounds of fresh server and client processes; reports each mode's ratio to the run with
/// no listener, measured in the same run and round. Writes <c>telemetry-latest.md</c>.
/// </summary>
internal static class TelemetryRun
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var root = BenchmarkRun.RepositoryRoot();
        var rounds = arguments.GetInt("rounds", 3);
        var warmup = arguments.GetDouble("warmup", 2).ToString(CultureInfo.InvariantCulture);
        var seconds = arguments.GetDouble("seconds", 5).ToString(CultureInfo.InvariantCulture);
        var scenarios = (arguments.Get("scenarios") ?? "seq,p64").Split(',');
        var modes = (arguments.Get("modes") ?? string.Join(',', TelemetryListener.Modes)).Split(',');
        if (modes[0] != TelemetryListener.Off)
        {
            throw new ArgumentException("--modes must start with off: the other modes are measured against it.");
        }
        var output = Path.GetFullPath(arguments.Get("out") ?? Path.Combine(root, "benchmarks", "results"));
        Directory.CreateDirectory(output);
        var loadDll = BenchmarkRun.Publish(root, "benchmarks/Load", Path.Combine(root, "benchmarks", "Load", "bin", "published", "load"), "SourceGenDO.Load.dll");

        var results = new List<(string Scenario, int Round, string Mode, ScenarioResult Result, double Load)>();
        foreach (var scenario in scenarios)
        {
            Scenario.Named(scenario);
            for (var round = 1; round <= rounds; round++)
            {
                // Interleaved off, metrics, all, off, ...: drift of the machine hits every mode alike.
                foreach (var mode in modes)
                {
                    var load = LoadAverage();
                    var result = await MeasureAsync(loadDll, scenario, mode, warmup, seconds);
                    Console.WriteLine($"{scenario,-12} round {round} {mode,-8} {result.CallsPerSecond,12:N0} calls/s  p50 {result.P50Us,8:N1} us  p99 {result.P99Us,9:N1} us  server CPU {PerCallUs(result.ServerCpuSeconds ?? 0, result.Calls),6:N1} us/call  load {load:N1}");
                    results.Add((scenario, round, mode, result, load));
                }
            }
        }

        var markdown = ToMarkdown(results, modes, rounds, seconds);
        await File.WriteAllTextAsync(Path.Combine(output, "telemetry-latest.md"), markdown);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"Written to {Path.Combine(output, "telemetry-latest.md")}");
        return 0;
    }

    private static async Task<ScenarioResult> MeasureAsync(string loadDll, string scenario, string mode, string warmup, string seconds)
    {
        var ports = Systems.Ports.Free();
        await using var server = ChildProcess.Start(loadDll, "server", "--system", Systems.SourceGenDO, "--port", ports.Main, "--telemetry", mode);
        await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await using var client = ChildProcess.Start(loadDll, "client", "--system", Systems.SourceGenDO, "--port", ports.Main, "--scenario", scenario,
            "--warmup", warmup, "--seconds", seconds, "--server-pid", server.Id.ToString(CultureInfo.InvariantCulture), "--telemetry", mode);
        return await client.ResultAsync(TimeSpan.FromMinutes(5));
    }

    private static string ToMarkdown(List<(string Scenario, int Round, string Mode, ScenarioResult Result, double Load)> results, string[] modes, int rounds, string seconds)
    {
        var text = new StringBuilder();
        text.AppendLine("# Telemetry: the cost of a listener");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{BenchmarkRun.Environment()}; {rounds} rounds of {seconds} s per mode, interleaved; 1-minute load average {results.Min(r => r.Load):N1} to {results.Max(r => r.Load):N1}.");
        text.AppendLine("Modes: `off` nobody listens; `metrics` a MeterListener records every SourceGenDO instrument; `all` that, and an ActivityListener");
        text.AppendLine("samples and records every SourceGenDO span, in the server and the client process. Ratios are to `off` in the same round; the");
        text.AppendLine("median of the rounds' ratios is given, with each round's in brackets.");
        text.AppendLine();
        text.AppendLine("| scenario | mode | calls/s | ratio | p50 us | p99 us | server CPU us/call | ratio | client alloc B/call |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var scenario in results.Select(r => r.Scenario).Distinct())
        {
            foreach (var mode in modes)
            {
                var runs = results.Where(r => r.Scenario == scenario && r.Mode == mode).ToArray();
                var rate = Ratios(results, scenario, mode, static r => r.CallsPerSecond);
                var cpu = Ratios(results, scenario, mode, static r => PerCallUs(r.ServerCpuSeconds ?? 0, r.Calls));
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {scenario} | {mode} | {Median(runs.Select(r => r.Result.CallsPerSecond)):N0} | {rate} | {Median(runs.Select(r => r.Result.P50Us)):N1} | {Median(runs.Select(r => r.Result.P99Us)):N1} | {Median(runs.Select(r => PerCallUs(r.Result.ServerCpuSeconds ?? 0, r.Result.Calls))):N1} | {cpu} | {Median(runs.Select(r => (double)(r.Result.ClientAllocatedBytes ?? 0))):N0} |");
            }
        }
        return text.ToString();
    }

    private static string Ratios(List<(string Scenario, int Round, string Mode, ScenarioResult Result, double Load)> results, string scenario, string mode, Func<ScenarioResult, double> value)
    {
        var ratios = results.Where(r => r.Scenario == scenario && r.Mode == mode)
            .Select(r => value(r.Result) / value(results.Single(b => b.Scenario == scenario && b.Round == r.Round && b.Mode == TelemetryListener.Off).Result))
            .ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{Median(ratios):N3} ({string.Join(", ", ratios.Select(ratio => ratio.ToString("N3", CultureInfo.InvariantCulture)))})");
    }

    private static double PerCallUs(double seconds, long calls) => calls == 0 ? 0 : seconds * 1e6 / calls;

    private static double Median(IEnumerable<double> values) => Report.Median(values);

    private static double LoadAverage() => DurableRun.LoadAverage();
}
