using System.Globalization;
using System.Text;

namespace SourceGenDO.Micro.Generator;

/// <summary>
/// <c>--generated-size</c>: runs the generator once over <see cref="SyntheticProject"/> and prints how many
/// bytes (UTF-8) it emits: per durable object class file, in the assembly-level files, and in all, per
/// class. Not a benchmark: the size does not depend on the machine.
/// </summary>
public static class GeneratedSize
{
    public const string Switch = "--generated-size";

    /// <returns>0 (the run throws if the generator's output is incomplete).</returns>
    public static int Run(TextWriter output)
    {
        var driver = SyntheticProject.CreateDriver().RunGenerators(SyntheticProject.CreateCompilation());
        SyntheticProject.AssertComplete(driver);
        var sources = driver.GetRunResult().Results.SelectMany(static r => r.GeneratedSources).ToList();
        // The per-class files are named after their class (Synthetic.GroupN.ObjectNNN.g.cs); the
        // assembly-level files after the framework (SourceGenDO.*.g.cs).
        var perClass = sources.Where(static s => !s.HintName.StartsWith("SourceGenDO.", StringComparison.Ordinal)).ToList();
        var shared = sources.Except(perClass).ToList();
        long Bytes(Microsoft.CodeAnalysis.GeneratedSourceResult source) => Encoding.UTF8.GetByteCount(source.SourceText.ToString());
        var classBytes = perClass.Sum(Bytes);
        var sharedBytes = shared.Sum(Bytes);
        var total = classBytes + sharedBytes;
        string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

        output.WriteLine($"Generated size: {SyntheticProject.ClassCount} durable object classes x {SyntheticProject.MethodsPerClass} methods (benchmarks/Micro/Generator/SyntheticProject.cs)");
        output.WriteLine($"  per-class files:      {perClass.Count,4} files, {N(classBytes),12} B, {N((double)classBytes / perClass.Count),9} B per class file");
        foreach (var source in shared)
        {
            output.WriteLine($"  {source.HintName + ":",-21} {1,4} file,  {N(Bytes(source)),12} B");
        }
        output.WriteLine($"  all generated code:   {sources.Count,4} files, {N(total),12} B, {N((double)total / SyntheticProject.ClassCount),9} B per class");
        return 0;
    }
}
