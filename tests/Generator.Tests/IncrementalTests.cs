using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace SourceGenDO.Generator.Tests;

/// <summary>
/// The pipeline caches: an edit that changes nothing the generator emits reruns no emission, and the
/// cached models hold plain data only.
/// </summary>
public sealed class IncrementalTests
{
    private static readonly string[] TrackedSteps =
    [
        TrackingNames.ObjectClasses,
        TrackingNames.Models,
        TrackingNames.ObjectSerialization,
        TrackingNames.GeneratedNamespace,
        TrackingNames.StorageCalls,
        TrackingNames.StoredValues,
        TrackingNames.Serialization,
        TrackingNames.StorageCodecs,
    ];

    // The steps whose outputs are the emitted files' models, walked for symbols.
    private static readonly string[] ModelSteps = [TrackingNames.Models, TrackingNames.ObjectSerialization, TrackingNames.StoredValues, TrackingNames.Serialization, TrackingNames.StorageCodecs];

    [Fact]
    public void AddingAnUnrelatedFileLeavesEveryStepCachedOrUnchanged()
    {
        var compilation = CreateCompilation();
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(
            GeneratorHarness.Parse("namespace Elsewhere; public static class Unrelated { public static int Value => 1; }", "Unrelated.cs")));

        AssertNothingReemitted(driver.GetRunResult().Results.Single());
    }

    [Fact]
    public void ChangingAMethodBodyLeavesEveryStepCachedOrUnchanged()
    {
        var compilation = CreateCompilation();
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var counter = compilation.SyntaxTrees.First();
        var edited = counter.WithChangedText(counter.GetText().Replace(
            counter.GetText().ToString().IndexOf("_value += amount", StringComparison.Ordinal), "_value += amount".Length, "_value = _value + amount"));

        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(counter, edited));

        AssertNothingReemitted(driver.GetRunResult().Results.Single());
    }

    [Fact]
    public void ChangingAStorageCallsKeyLeavesEveryStepCachedOrUnchanged()
    {
        var compilation = CreateCompilation();
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var store = compilation.SyntaxTrees.Last();

        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(store, Edit(store, "Ctx.Storage.Put(\"cart\", cart);", "Ctx.Storage.Put(\"basket\", cart);")));

        AssertNothingReemitted(driver.GetRunResult().Results.Single());
    }

    [Fact]
    public void StoringANewTypeReemitsOnlyTheAssemblyFiles()
    {
        var compilation = CreateCompilation();
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var before = driver.GetRunResult().Results.Single().GeneratedSources.ToDictionary(static s => s.HintName, static s => s.SourceText.ToString());
        var store = compilation.SyntaxTrees.Last();

        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(store, Edit(store, "Ctx.Storage.Put(\"count\", 1L);", "Ctx.Storage.Put(\"count\", new List<long> { 1 });")));

        var result = driver.GetRunResult().Results.Single();
        AssertAll(result, TrackingNames.Models, static r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        AssertAll(result, TrackingNames.Serialization, static r => r == IncrementalStepRunReason.Modified);
        AssertAll(result, TrackingNames.StorageCodecs, static r => r == IncrementalStepRunReason.Modified);
        var after = result.GeneratedSources.ToDictionary(static s => s.HintName, static s => s.SourceText.ToString());
        Assert.Contains("ValueCodecs.Register<global::System.Collections.Generic.List<long>>(", after[DurableObjectGenerator.StorageCodecsHintName], StringComparison.Ordinal);
        Assert.All(before.Keys.Where(static name => !name.StartsWith("SourceGenDO.", StringComparison.Ordinal)), name => Assert.Equal(before[name], after[name]));
    }

    [Fact]
    public void ChangingARecordReemitsOnlyTheSerializationHelpers()
    {
        var compilation = CreateCompilation();
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var everything = compilation.SyntaxTrees.ElementAt(1);

        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(everything, Edit(
            everything, "record Line(string Sku, int Quantity, decimal Price);", "record Line(string Sku, int Quantity, decimal Price, string? Memo = null);")));

        var result = driver.GetRunResult().Results.Single();
        AssertAll(result, TrackingNames.Models, static r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        AssertAll(result, TrackingNames.Serialization, static r => r == IncrementalStepRunReason.Modified);
        AssertAll(result, TrackingNames.StorageCodecs, static r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        // One source output ran again: the helpers' (the class files' models are cached, checked above).
        Assert.Single(result.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs), static o => o.Reason != IncrementalStepRunReason.Cached);
        Assert.Contains("value.Memo", result.GeneratedSources.Single(static s => s.HintName == DurableObjectGenerator.SerializationHintName).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ChangingAnExposedSignatureReemitsOnlyThatClass()
    {
        var compilation = CreateCompilation();
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var counter = compilation.SyntaxTrees.First();
        var text = counter.GetText().ToString();
        var edited = counter.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(text.Replace("long amount = 1", "long amount = 2", StringComparison.Ordinal)));

        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(counter, edited));

        var result = driver.GetRunResult().Results.Single();
        var reasons = result.TrackedSteps[TrackingNames.Models].SelectMany(static s => s.Outputs).Select(static o => o.Reason).ToList();
        Assert.Equal(1, reasons.Count(static r => r == IncrementalStepRunReason.Modified));
        Assert.All(reasons.Where(static r => r != IncrementalStepRunReason.Modified), static r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        Assert.Contains("long amount = 2L", result.GeneratedSources.Single(static s => s.HintName == "Shop.Counter.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ModelsHoldNoSymbolsSyntaxLocationsOrCompilations()
    {
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(CreateCompilation());

        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        Assert.Equal(5, steps[TrackingNames.Models].SelectMany(static s => s.Outputs).Count());
        var models = ModelSteps
            .SelectMany(name => steps[name])
            .SelectMany(static s => s.Outputs)
            .Select(static o => o.Value)
            .ToList();

        Assert.Contains(models, static m => m is Model.StoredValueSpec);
        Assert.Contains(models, static m => m is Model.SerializationSpec);
        Assert.Contains(models, static m => m is Model.StorageCodecsSpec);
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var model in models)
        {
            AssertPlainData(model, "model", visited);
        }
    }

    // The storage source comes last (the tests edit it there).
    private static CSharpCompilation CreateCompilation() => GeneratorHarness.CreateCompilation(
        GeneratorHarness.Usings + TestSources.Counter,
        GeneratorHarness.Usings + TestSources.EverySupportedType,
        GeneratorHarness.Usings + TestSources.NestedClassWithServices,
        GeneratorHarness.Usings + TestSources.StoredValues.Replace("namespace Shop;", "namespace Stored;", StringComparison.Ordinal));

    private static SyntaxTree Edit(SyntaxTree tree, string from, string to)
    {
        var text = tree.GetText().ToString();
        Assert.Contains(from, text, StringComparison.Ordinal);
        return tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(text.Replace(from, to, StringComparison.Ordinal)));
    }

    private static void AssertAll(GeneratorRunResult result, string step, Func<IncrementalStepRunReason, bool> expected)
    {
        var outputs = result.TrackedSteps[step].SelectMany(static s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.True(expected(o.Reason), $"Step {step} produced {o.Reason}"));
    }

    private static void AssertNothingReemitted(GeneratorRunResult result)
    {
        foreach (var name in TrackedSteps)
        {
            var outputs = result.TrackedSteps[name].SelectMany(static s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, o => Assert.True(
                o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"Step {name} produced {o.Reason} for {o.Value}"));
        }
        var emitted = result.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs).ToList();
        Assert.NotEmpty(emitted);
        Assert.All(emitted, static o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    // Walks every field of the model graph (the test may use reflection; the generator does not).
    private static void AssertPlainData(object? value, string path, HashSet<object> visited)
    {
        if (value is null or string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return;
        }
        Assert.False(
            value is ISymbol or SyntaxNode or SyntaxTree or Location or Compilation or SemanticModel or SyntaxToken or SyntaxReference,
            $"{path} holds a {value.GetType().FullName}");
        Assert.True(
            value.GetType().Assembly == typeof(DurableObjectGenerator).Assembly,
            $"{path} holds a {value.GetType().FullName}, which is not a model type");
        if (!visited.Add(value))
        {
            return;
        }
        if (value is IEnumerable items)
        {
            var index = 0;
            foreach (var item in items)
            {
                AssertPlainData(item, $"{path}[{index++}]", visited);
            }
        }
        for (var type = value.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType == typeof(Type) || field.IsDefined(typeof(CompilerGeneratedAttribute)) && field.Name == "EqualityContract")
                {
                    continue;
                }
                AssertPlainData(field.GetValue(value), $"{path}.{field.Name}", visited);
            }
        }
    }
}
