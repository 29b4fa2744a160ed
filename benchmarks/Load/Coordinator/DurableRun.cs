using System.Collections.Concurrent;
using System.Globalization;

namespace SourceGenDO.Load.Coordinator;

/// <summary>
/// The <c>durable</c> command: every durable scenario for SourceGenDO and for the SQLite baseline,
/// interleaved round by round, each on a fresh data directory; then the memory case; writes
/// <c>durable-latest.md</c> and <c>durable-latest.json</c>.
/// </summary>
internal static class DurableRun
{
    public const string Baseline = "sqlite-tx";
    public const string Memory = "memory";

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var root = BenchmarkRun.RepositoryRoot();
        var rounds = arguments.GetInt("rounds", 3);
        var warmup = arguments.GetDouble("warmup", 2).ToString(CultureInfo.InvariantCulture);
        var seconds = arguments.GetDouble("seconds", 10).ToString(CultureInfo.InvariantCulture);
        var scenarios = (arguments.Get("scenarios") ?? string.Join(',', Scenario.DurableAll.Select(s => s.Name).Append(Memory))).Split(',');
        foreach (var name in scenarios.Where(s => s != Memory))
        {
            if (!Scenario.Named(name).Durable)
            {
                throw new ArgumentException($"\"{name}\" is not a durable scenario; use the run command for it.");
            }
        }
        var connections = arguments.Get("connections") ?? "one";
        var output = Path.GetFullPath(arguments.Get("out") ?? Path.Combine(root, "benchmarks", "results"));
        // Under the build output (ignored by git), on the same disk as the repository: the server's store
        // and the baseline's file both live here, so both pay the same disk's sync.
        var dataRoot = Path.GetFullPath(arguments.Get("data") ?? Path.Combine(root, "benchmarks", "Load", "bin", "durable-data"));
        Directory.CreateDirectory(output);
        Directory.CreateDirectory(dataRoot);

        var loadDll = BenchmarkRun.Publish(root, "benchmarks/Load", Path.Combine(root, "benchmarks", "Load", "bin", "published", "load"), "SourceGenDO.Load.dll");
        var report = new DurableReport(BenchmarkRun.Environment(), rounds, arguments.GetDouble("seconds", 10), dataRoot, DiskOf(dataRoot), connections);

        foreach (var scenario in scenarios.Where(s => s != Memory))
        {
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var system in new[] { Systems.SourceGenDO, Baseline })
                {
                    var data = FreshDirectory(dataRoot, $"{scenario}-{system}-{round}");
                    var load = LoadAverage();
                    try
                    {
                        var measured = system == Baseline
                            ? await MeasureBaselineAsync(loadDll, scenario, data, connections, warmup, seconds)
                            : await MeasureServerAsync(loadDll, scenario, data, warmup, seconds);
                        Console.WriteLine($"{scenario,-20} round {round} {system,-12} {measured.Result.CallsPerSecond,10:N0} calls/s  p50 {measured.Result.P50Us,9:N1} us  p99 {measured.Result.P99Us,9:N1} us  server RSS peak {measured.PeakBytes / 1048576.0,6:N1} MiB  load {load:N1}");
                        report.Add(round, measured, load);
                    }
                    finally
                    {
                        Directory.Delete(data, recursive: true);
                    }
                }
            }
        }

        if (scenarios.Contains(Memory))
        {
            var data = FreshDirectory(dataRoot, Memory);
            try
            {
                report.Memory = await MeasureMemoryAsync(loadDll, data, arguments);
            }
            finally
            {
                Directory.Delete(data, recursive: true);
            }
        }

        var markdown = report.ToMarkdown();
        await File.WriteAllTextAsync(Path.Combine(output, "durable-latest.md"), markdown);
        await File.WriteAllTextAsync(Path.Combine(output, "durable-latest.json"), report.ToJson());
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"Written to {Path.Combine(output, "durable-latest.md")} and durable-latest.json");
        return 0;
    }

    private static ChildProcess StartServer(string loadDll, Systems.Ports ports, string data) =>
        ChildProcess.Start(loadDll, "server", "--system", Systems.SourceGenDO, "--port", ports.Main, "--data", data);

    private static async Task<Measurement> MeasureServerAsync(string loadDll, string scenario, string data, string warmup, string seconds)
    {
        var ports = Systems.Ports.Free();
        await using var server = StartServer(loadDll, ports, data);
        await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(1000);
        var idle = server.ResidentBytes();
        await using var client = ChildProcess.Start(loadDll, "client", "--system", Systems.SourceGenDO, "--port", ports.Main, "--scenario", scenario,
            "--warmup", warmup, "--seconds", seconds, "--server-pid", server.Id.ToString(CultureInfo.InvariantCulture));
        var peak = idle;
        var result = client.ResultAsync(TimeSpan.FromMinutes(5));
        while (!result.IsCompleted)
        {
            peak = Math.Max(peak, server.ResidentBytes());
            await Task.WhenAny(result, Task.Delay(100));
        }
        return new Measurement(Systems.SourceGenDO, scenario, await result, idle, peak);
    }

    private static async Task<Measurement> MeasureBaselineAsync(string loadDll, string scenario, string data, string connections, string warmup, string seconds)
    {
        await using var client = ChildProcess.Start(loadDll, "client", "--system", Baseline, "--scenario", scenario, "--data", data,
            "--connections", connections, "--warmup", warmup, "--seconds", seconds);
        return new Measurement(Baseline, scenario, await client.ResultAsync(TimeSpan.FromMinutes(5)), 0, 0);
    }

    /// <summary>
    /// One server, one client writing then reading back every object; the server's RSS sampled every
    /// 100 ms, and at every 1,000 objects the client reports.
    /// </summary>
    private static async Task<MemoryMeasurement> MeasureMemoryAsync(string loadDll, string data, Arguments arguments)
    {
        var ports = Systems.Ports.Free();
        await using var server = StartServer(loadDll, ports, data);
        await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(1000);
        var idle = server.ResidentBytes();
        var progress = new ConcurrentQueue<string>();
        await using var client = ChildProcess.Start(loadDll, line =>
            {
                if (line.StartsWith("PROGRESS ", StringComparison.Ordinal))
                {
                    progress.Enqueue(line["PROGRESS ".Length..]);
                }
            }, [],
            "client", "--system", Systems.SourceGenDO, "--port", ports.Main, "--scenario", Memory,
            "--objects", arguments.GetInt("memory-objects", 10_000).ToString(CultureInfo.InvariantCulture),
            "--value-kib", arguments.GetInt("memory-value-kib", 100).ToString(CultureInfo.InvariantCulture),
            "--callers", arguments.GetInt("memory-callers", 64).ToString(CultureInfo.InvariantCulture));
        var checkpoints = new List<MemoryCheckpoint>();
        var peaks = new Dictionary<string, long> { ["write"] = idle, ["read"] = 0 };
        var phase = "write";
        var result = client.JsonResultAsync(TimeSpan.FromMinutes(20));
        while (!result.IsCompleted)
        {
            var rss = server.ResidentBytes();
            while (progress.TryDequeue(out var point))
            {
                var parts = point.Split(' ');
                phase = parts[0];
                checkpoints.Add(new MemoryCheckpoint(phase, int.Parse(parts[1], CultureInfo.InvariantCulture), rss));
            }
            peaks[phase] = Math.Max(peaks[phase], rss);
            await Task.WhenAny(result, Task.Delay(100));
        }
        var measured = MemoryResult.Parse(await result);
        // What the server holds once the work is done and it has sat idle for a few seconds.
        await Task.Delay(3000);
        var final = server.ResidentBytes();
        var highWater = HighWaterBytes(server.Id);
        var stored = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length);
        Console.WriteLine($"memory: {measured.Objects:N0} x {measured.ValueBytes / 1024} KiB written in {measured.WriteSeconds:N1} s, read back in {measured.ReadSeconds:N1} s; server RSS idle {idle / 1048576.0:N0} MiB, peak write {peaks["write"] / 1048576.0:N0} MiB, peak read {peaks["read"] / 1048576.0:N0} MiB, final {final / 1048576.0:N0} MiB, VmHWM {highWater / 1048576.0:N0} MiB");
        return new MemoryMeasurement(measured, idle, peaks["write"], peaks["read"], final, highWater, stored, checkpoints);
    }

    /// <summary>
    /// The machine's 1-minute load average: other work on the same cores (and the same disk) moves every
    /// figure, so the report says how busy the machine was.
    /// </summary>
    internal static double LoadAverage() => File.Exists("/proc/loadavg")
        ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture)
        : double.NaN;

    /// <summary>The kernel's record of the process's peak resident set (VmHWM), which sampling cannot miss.</summary>
    private static long HighWaterBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    private static string FreshDirectory(string root, string name)
    {
        var path = Path.Combine(root, name);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The file system and device that hold <paramref name="path"/>, from /proc/mounts.</summary>
    private static string DiskOf(string path)
    {
        if (!File.Exists("/proc/mounts"))
        {
            return "unknown file system";
        }
        var mount = File.ReadLines("/proc/mounts")
            .Select(line => line.Split(' '))
            .Where(parts => parts.Length >= 3 && (path == parts[1] || path.StartsWith(parts[1].TrimEnd('/') + "/", StringComparison.Ordinal)))
            .MaxBy(parts => parts[1].Length);
        return mount is null ? "unknown file system" : $"{mount[2]} on {mount[0]}, mounted at {mount[1]}";
    }
}

/// <summary>The server's RSS when the memory case's client had handled <paramref name="Objects"/> objects in <paramref name="Phase"/>.</summary>
internal sealed record MemoryCheckpoint(string Phase, int Objects, long ResidentBytes);

/// <summary>The memory case: the client's figures and the server's RSS (idle, peaks per phase, final, the kernel's high-water mark).</summary>
internal sealed record MemoryMeasurement(
    MemoryResult Result,
    long IdleBytes,
    long PeakWriteBytes,
    long PeakReadBytes,
    long FinalBytes,
    long HighWaterBytes,
    long StoredBytes,
    IReadOnlyList<MemoryCheckpoint> Checkpoints);
