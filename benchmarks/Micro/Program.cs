using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using SourceGenDO.Micro.Generator;

namespace SourceGenDO.Micro;

public static class Program
{
    /// <returns>
    /// For <c>--check-incremental</c>, the check's result; for <c>--generated-size</c>, 0; otherwise 1 when a benchmark failed to
    /// run or validate, else 0.
    /// </returns>
    public static int Main(string[] args)
    {
        if (args.Contains(IncrementalCheck.Switch))
        {
            return IncrementalCheck.Run(Console.Out);
        }
        if (args.Contains(GeneratedSize.Switch))
        {
            return GeneratedSize.Run(Console.Out);
        }
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, CreateConfig());
        return summaries.Any(static s => s.HasCriticalValidationErrors || s.Reports.Any(static r => !r.Success)) ? 1 : 0;
    }

    /// <summary>Added to whatever the command line asks for (<c>--job short</c>, <c>--exporters json</c>, ...).</summary>
    private static IConfig CreateConfig() => DefaultConfig.Instance
        // BenchmarkDotNet's default toolchain builds a copy of the project it finds by the assembly's
        // name (SourceGenDO.Micro.csproj), which this project file (Micro.csproj) is not. In-process
        // runs this already-built Release assembly instead, and skips a second build of src/.
        // A mutator changes every job, including the one --job picks, without adding a job.
        .AddJob(new Job("InProcess").WithToolchain(InProcessEmitToolchain.Instance).AsMutator())
        // The full JSON export (*-report-full.json), next to the compressed one --exporters json writes.
        .AddExporter(JsonExporter.Full);
}
