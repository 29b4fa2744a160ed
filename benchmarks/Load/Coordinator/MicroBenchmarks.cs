using System.Diagnostics;
using System.Text.Json;

namespace SourceGenDO.Load.Coordinator;

/// <summary>One BenchmarkDotNet result: its name, mean time and allocations per operation.</summary>
internal sealed record MicroResult(string Name, double MeanNanoseconds, long AllocatedBytes);

/// <summary>Runs benchmarks/Micro (BenchmarkDotNet) and reads its JSON export.</summary>
internal static class MicroBenchmarks
{
    public static IReadOnlyList<MicroResult> Run(string root, string artifacts)
    {
        if (Directory.Exists(artifacts))
        {
            Directory.Delete(artifacts, recursive: true);
        }
        var project = Path.Combine(root, "benchmarks", "Micro");
        RunDotnet(["run", "-c", "Release", "--project", project, "--", "--check-incremental"]);
        RunDotnet(["run", "-c", "Release", "--project", project, "--", "--filter", "*", "--job", "short", "--exporters", "json", "--artifacts", artifacts]);
        var results = new List<MicroResult>();
        foreach (var file in Directory.EnumerateFiles(artifacts, "*-report-full.json", SearchOption.AllDirectories).Order())
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var benchmark in document.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                var name = $"{benchmark.GetProperty("Type").GetString()}.{benchmark.GetProperty("Method").GetString()}";
                if (benchmark.TryGetProperty("Parameters", out var parameters) && parameters.GetString() is { Length: > 0 } text)
                {
                    name += $"({text})";
                }
                var mean = benchmark.GetProperty("Statistics") is { ValueKind: JsonValueKind.Object } statistics ? statistics.GetProperty("Mean").GetDouble() : double.NaN;
                var allocated = benchmark.TryGetProperty("Memory", out var memory) ? memory.GetProperty("BytesAllocatedPerOperation").GetInt64() : 0;
                results.Add(new MicroResult(name, mean, allocated));
            }
        }
        return results;
    }

    private static void RunDotnet(string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", arguments) { UseShellExecute = false })!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}.");
        }
    }
}
