using System.Diagnostics;
using Microsoft.CodeAnalysis;

namespace SourceGenDO.Micro.Generator;

/// <summary>
/// <c>--check-incremental</c>: runs the generator over <see cref="SyntheticProject"/> with step tracking,
/// then again after unrelated edits, and checks that every tracked step and every source output was
/// Cached or Unchanged. Not a benchmark: a yes/no answer with the counts behind it.
/// </summary>
public static class IncrementalCheck
{
    public const string Switch = "--check-incremental";

    private static readonly HashSet<string> DriverInputs = new(StringComparer.Ordinal)
    {
        WellKnownGeneratorInputs.Compilation,
        WellKnownGeneratorInputs.ParseOptions,
        WellKnownGeneratorInputs.AdditionalTexts,
        WellKnownGeneratorInputs.AnalyzerConfigOptions,
        WellKnownGeneratorInputs.MetadataReferences,
    };

    /// <returns>0 when every step was Cached or Unchanged after each edit, 1 otherwise.</returns>
    public static int Run(TextWriter output)
    {
        output.WriteLine($"Incremental check: {SyntheticProject.ClassCount} durable object classes x {SyntheticProject.MethodsPerClass} methods, trackIncrementalGeneratorSteps = true");
        var compilation = SyntheticProject.CreateCompilation();
        var clock = Stopwatch.StartNew();
        var driver = SyntheticProject.CreateDriver(trackSteps: true).RunGenerators(compilation);
        output.WriteLine($"first run: {clock.ElapsedMilliseconds} ms");
        SyntheticProject.AssertComplete(driver);

        var unrelated = compilation.SyntaxTrees.Single(static tree => tree.FilePath == SyntheticProject.UnrelatedPath);
        var replaced = compilation.ReplaceSyntaxTree(unrelated, SyntheticProject.UnrelatedTree(1));
        var ok = RunEdit(output, ref driver, replaced, $"replace {SyntheticProject.UnrelatedPath}");

        var added = replaced.AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(
            "namespace Synthetic.Tools; public static class Added { public const int Value = 1; }",
            SyntheticProject.ParseOptions,
            "Tools/Added.cs"));
        ok &= RunEdit(output, ref driver, added, "add Tools/Added.cs");

        output.WriteLine(ok
            ? "RESULT: PASS: after each unrelated edit every tracked step output was Cached or Unchanged"
            : "RESULT: FAIL: some tracked step output was New, Modified or Removed after an unrelated edit");
        return ok ? 0 : 1;
    }

    private static bool RunEdit(TextWriter output, ref GeneratorDriver driver, Compilation edited, string edit)
    {
        var clock = Stopwatch.StartNew();
        driver = driver.RunGenerators(edited);
        output.WriteLine($"second run after \"{edit}\": {clock.ElapsedMilliseconds} ms");
        SyntheticProject.AssertComplete(driver);

        var result = driver.GetRunResult().Results.Single();
        // An empty tracking result would pass vacuously; every class must show up in the source outputs.
        var emitted = result.TrackedOutputSteps.Values.SelectMany(static runs => runs).Sum(static run => run.Outputs.Length);
        var ok = emitted >= SyntheticProject.ClassCount;
        if (!ok)
        {
            output.WriteLine($"  only {emitted} source outputs were tracked, expected {SyntheticProject.ClassCount}");
        }
        // The driver's own inputs (the compilation) change with every edit by definition; what matters
        // is that the generator's steps fed by them come out Cached or Unchanged.
        var steps = result.TrackedSteps.Where(static pair => !DriverInputs.Contains(pair.Key)).Select(static pair => ("step", pair.Key, pair.Value))
            .Concat(result.TrackedOutputSteps.Select(static pair => ("output", pair.Key, pair.Value)))
            .OrderBy(static s => s.Item1, StringComparer.Ordinal)
            .ThenBy(static s => s.Key, StringComparer.Ordinal);
        foreach (var (kind, name, runs) in steps)
        {
            var reasons = runs.SelectMany(static run => run.Outputs).GroupBy(static o => o.Reason)
                .OrderBy(static g => g.Key)
                .Select(static g => (Reason: g.Key, Count: g.Count()))
                .ToList();
            var stepOk = reasons.All(static r => r.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
            ok &= stepOk;
            var counts = reasons.Count == 0 ? "no outputs" : string.Join(", ", reasons.Select(static r => $"{r.Reason}={r.Count}"));
            output.WriteLine($"  {kind} {name,-14} {counts}{(stepOk ? "" : "   <-- not all Cached/Unchanged")}");
        }
        return ok;
    }
}
