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
    private static readonly string[] TrackedSteps = [TrackingNames.ObjectClasses, TrackingNames.Models];

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

        var models = driver.GetRunResult().Results.Single().TrackedSteps[TrackingNames.Models]
            .SelectMany(static s => s.Outputs)
            .Select(static o => o.Value)
            .ToList();

        Assert.Equal(4, models.Count);
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var model in models)
        {
            AssertPlainData(model, "model", visited);
        }
    }

    private static CSharpCompilation CreateCompilation() => GeneratorHarness.CreateCompilation(
        GeneratorHarness.Usings + TestSources.Counter,
        GeneratorHarness.Usings + TestSources.EverySupportedType,
        GeneratorHarness.Usings + TestSources.NestedClassWithServices);

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
