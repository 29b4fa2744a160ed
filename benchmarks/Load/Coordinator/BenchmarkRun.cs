using System.Diagnostics;
using System.Globalization;

namespace SourceGenDO.Load.Coordinator;

/// <summary>
/// The one command: every scenario for every system, interleaved round by round, then start-up time,
/// then the micro benchmarks; writes a markdown report and a JSON file.
/// </summary>
internal static class BenchmarkRun
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var root = RepositoryRoot();
        var rounds = arguments.GetInt("rounds", 3);
        var warmup = arguments.GetDouble("warmup", 2).ToString(CultureInfo.InvariantCulture);
        var seconds = arguments.GetDouble("seconds", 10).ToString(CultureInfo.InvariantCulture);
        // "--scenarios none" measures only start-up (and the micro benchmarks, unless skipped).
        var scenarios = (arguments.Get("scenarios") ?? string.Join(',', Scenario.All.Select(s => s.Name))).Split(',').Where(s => s != "none").ToArray();
        var systemNames = (arguments.Get("systems") ?? string.Join(',', Systems.Compared)).Split(',');
        var output = Path.GetFullPath(arguments.Get("out") ?? Path.Combine(root, "benchmarks", "results"));
        Directory.CreateDirectory(output);

        // Every role runs from a ReadyToRun publish, as a production deployment would: start-up then
        // measures the systems rather than the JIT, and all of them alike.
        var published = Path.Combine(root, "benchmarks", "Load", "bin", "published");
        // --compare-with <checkout>: that checkout's build runs as the system "sourcegendo-base", so that two
        // builds are compared round by round in one run (the ratio table then gives this build against it).
        var compareWith = arguments.Get("compare-with") is { } other ? Path.GetFullPath(other) : null;
        var systems = new Systems(
            Publish(root, "benchmarks/Load", Path.Combine(published, "load"), "SourceGenDO.Load.dll"),
            systemNames.Contains(Systems.Orleans) || !arguments.Has("skip-startup")
                ? Publish(root, "benchmarks/Load.Orleans", Path.Combine(published, "orleans"), "SourceGenDO.Load.Orleans.dll")
                : "",
            compareWith is null ? null : Publish(compareWith, "benchmarks/Load", Path.Combine(published, "load-base"), "SourceGenDO.Load.dll"));
        var report = new Report(Environment(), rounds, arguments.GetDouble("seconds", 10));

        foreach (var scenario in scenarios)
        {
            for (var round = 1; round <= rounds; round++)
            {
                // Interleaved A B C D, A B C D: drift of the machine hits every system alike.
                foreach (var system in systemNames)
                {
                    var measured = await MeasureAsync(systems, system, scenario, warmup, seconds);
                    Console.WriteLine($"{scenario,-12} round {round} {system,-12} {measured.Result.CallsPerSecond,12:N0} calls/s  p50 {measured.Result.P50Us,8:N1} us  p99 {measured.Result.P99Us,9:N1} us  server RSS idle {measured.IdleBytes / 1048576.0,6:N1} MiB peak {measured.PeakBytes / 1048576.0,6:N1} MiB");
                    report.Add(round, measured);
                }
            }
        }

        if (!arguments.Has("skip-startup"))
        {
            foreach (var round in Enumerable.Range(1, rounds))
            {
                foreach (var system in new[] { Systems.SourceGenDO, Systems.Orleans, Systems.Kestrel })
                {
                    var milliseconds = await FirstCallAsync(systems, system);
                    Console.WriteLine($"first call   round {round} {system,-12} {milliseconds,8:N0} ms after process start");
                    report.AddFirstCall(system, milliseconds);
                }
            }
        }

        if (!arguments.Has("skip-micro"))
        {
            report.Micro = MicroBenchmarks.Run(root, Path.Combine(output, "micro"));
        }

        var markdown = report.ToMarkdown();
        await File.WriteAllTextAsync(Path.Combine(output, "latest.md"), markdown);
        await File.WriteAllTextAsync(Path.Combine(output, "latest.json"), report.ToJson());
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"Written to {Path.Combine(output, "latest.md")} and latest.json");
        return 0;
    }

    private static async Task<Measurement> MeasureAsync(Systems systems, string system, string scenario, string warmup, string seconds)
    {
        var ports = Systems.Ports.Free();
        await using var server = systems.StartServer(system, ports);
        await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(1000);
        var idle = server.ResidentBytes();
        await using var client = systems.StartClient(system, ports, scenario,
            "--warmup", warmup, "--seconds", seconds, "--server-pid", server.Id.ToString(CultureInfo.InvariantCulture));
        var peak = idle;
        var result = client.ResultAsync(TimeSpan.FromMinutes(5));
        while (!result.IsCompleted)
        {
            peak = Math.Max(peak, server.ResidentBytes());
            await Task.WhenAny(result, Task.Delay(100));
        }
        return new Measurement(system, scenario, await result, idle, peak);
    }

    private static async Task<double> FirstCallAsync(Systems systems, string system)
    {
        var ports = Systems.Ports.Free();
        await using var client = systems.StartClient(system, ports, "first-call");
        // Let the client process start and begin polling before the server exists.
        await Task.Delay(1500);
        await using var server = systems.StartServer(system, ports);
        var result = await client.ResultAsync(TimeSpan.FromSeconds(90));
        return result.FirstCallUnixMs!.Value - server.StartedAt.ToUnixTimeMilliseconds();
    }

    /// <summary>Publishes <paramref name="project"/> ReadyToRun into <paramref name="output"/>; returns the path of <paramref name="dll"/> there.</summary>
    internal static string Publish(string root, string project, string output, string dll)
    {
        using var publish = Process.Start(new ProcessStartInfo("dotnet",
        [
            "publish", Path.Combine(root, project), "-c", "Release", "-r", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier,
            "--self-contained", "false", "-p:PublishReadyToRun=true", "-o", output, "--nologo", "-v", "q",
        ])
        {
            UseShellExecute = false,
        })!;
        publish.WaitForExit();
        if (publish.ExitCode != 0)
        {
            throw new InvalidOperationException($"Publishing {project} failed.");
        }
        return Path.Combine(output, dll);
    }

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SourceGenDO.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Run the benchmark from inside the SourceGenDO repository.");
    }

    internal static string Environment()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{cpu ?? "unknown CPU"}, {System.Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {System.Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC";
    }
}

/// <summary>One client run against one fresh server process.</summary>
internal sealed record Measurement(string System, string Scenario, ScenarioResult Result, long IdleBytes, long PeakBytes);
