using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace SourceGenDO.Micro.Generator;

/// <summary>
/// Time and allocations of the generator over <see cref="SyntheticProject"/> (500 classes, 10 methods
/// each): a first run with a fresh driver, and a second run after an edit to an unrelated file, as an
/// IDE does on every keystroke in another file.
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private readonly SyntaxTree[] _unrelatedVersions = [SyntheticProject.UnrelatedTree(1), SyntheticProject.UnrelatedTree(2)];
    private CSharpCompilation _compilation = null!;
    private GeneratorDriver _driver = null!;
    private Compilation _current = null!;
    private SyntaxTree _currentUnrelated = null!;
    private int _edits;

    [GlobalSetup]
    public void Setup()
    {
        _compilation = SyntheticProject.CreateCompilation();
        // Binds the declarations once, so FirstRun_BoundCompilation measures the generator alone.
        SyntheticProject.AssertComplete(SyntheticProject.CreateDriver().RunGenerators(_compilation));
        _driver = SyntheticProject.CreateDriver().RunGenerators(_compilation);
        _current = _compilation;
        _currentUnrelated = _compilation.SyntaxTrees.Single(static tree => tree.FilePath == SyntheticProject.UnrelatedPath);
    }

    /// <summary>
    /// What a build pays: a fresh driver over a compilation nothing has bound yet (a clone keeps the
    /// parsed trees and the referenced assemblies, not the symbols), so the generator's semantic
    /// queries bind the 500 classes' declarations too.
    /// </summary>
    [Benchmark]
    public GeneratorDriver FirstRun() => SyntheticProject.CreateDriver().RunGenerators(_compilation.Clone());

    /// <summary>A fresh driver over a compilation whose symbols are already bound: the pipeline, models and emission alone.</summary>
    [Benchmark]
    public GeneratorDriver FirstRun_BoundCompilation() => SyntheticProject.CreateDriver().RunGenerators(_compilation);

    /// <summary>
    /// A driver that already ran, given a new compilation in which only the unrelated file changed (it
    /// alternates between two versions); every class is re-parsed into a model, no file is re-emitted.
    /// </summary>
    [Benchmark]
    public GeneratorDriver SecondRun_UnrelatedEdit()
    {
        var next = _unrelatedVersions[_edits++ & 1];
        _current = _current.ReplaceSyntaxTree(_currentUnrelated, next);
        _currentUnrelated = next;
        return _driver = _driver.RunGenerators(_current);
    }
}
