using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace SourceGenDO.Generator;

/// <summary>
/// Emits, for every non-abstract subclass of <c>SourceGenDO.DurableObject</c> in the compilation, a typed
/// stub, a dispatcher and its registration; for every value type that a storage call stores or reads, a
/// storage codec; and, once per assembly, the serialization helpers all of them share.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class DurableObjectGenerator : IIncrementalGenerator
{
    /// <summary>The hint name of the file with the assembly's serialization helpers.</summary>
    public const string SerializationHintName = "SourceGenDO.Serialization.g.cs";

    /// <summary>The hint name of the file with the assembly's storage codecs.</summary>
    public const string StorageCodecsHintName = "SourceGenDO.StorageCodecs.g.cs";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // A string, so that every step fed by it stays cached while the assembly name does not change.
        IncrementalValueProvider<string> generatedNamespace = context.CompilationProvider
            .Select(static (compilation, _) => SymbolNames.GeneratedNamespace(compilation.AssemblyName))
            .WithTrackingName(TrackingNames.GeneratedNamespace);

        // Syntax only: any class with a base list may derive from DurableObject. The transform checks the
        // base chain first and returns null at once for every other class.
        IncrementalValuesProvider<ParseResult<Model.ParsedObject>> objects = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax { BaseList: not null },
                static (syntaxContext, cancellationToken) => Parser.Parse(syntaxContext, cancellationToken))
            .WithTrackingName(TrackingNames.ObjectClasses)
            .Where(static result => result is not null)!;

        // Three branches: the equatable models drive emission (and are cached), the class's file on one,
        // its share of the assembly's helpers on the other; the diagnostics are reported separately with
        // their real locations, so that #pragma and .editorconfig suppressions apply.
        IncrementalValuesProvider<Model.ObjectSpec> models = objects
            .Select(static (result, _) => result.Model?.File)
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.Models)!;
        IncrementalValuesProvider<Model.ObjectSerializationSpec> objectSerialization = objects
            .Select(static (result, _) => result.Model?.Serialization)
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.ObjectSerialization)!;
        context.RegisterSourceOutput(models.Combine(generatedNamespace), static (production, input) => EmitObject(production, input.Left, input.Right));
        ReportDiagnostics(context, objects.Select(static (result, _) => result.Diagnostics), TrackingNames.Diagnostics);

        // Syntax only: an invocation of a method named like a storage method. The transform checks that
        // it is one of DurableObjectStorageOperations and returns null for scalars and other methods.
        IncrementalValuesProvider<ParseResult<Model.StoredValueSpec>> storageCalls = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => StorageCallParser.IsCandidate(node),
                static (syntaxContext, cancellationToken) => StorageCallParser.Parse(syntaxContext, cancellationToken))
            .WithTrackingName(TrackingNames.StorageCalls)
            .Where(static result => result is not null)!;
        IncrementalValuesProvider<Model.StoredValueSpec> storedValues = storageCalls
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.StoredValues)!;
        ReportDiagnostics(context, storageCalls.Select(static (result, _) => result.Diagnostics), TrackingNames.StorageDiagnostics);

        // The assembly-level files: each merged spec is equatable, so an edit that changes no type, result
        // or stored value leaves it Unchanged and its file is not emitted again.
        var collectedValues = storedValues.Collect();
        IncrementalValueProvider<Model.SerializationSpec> serialization = objectSerialization.Collect()
            .Combine(collectedValues)
            .Combine(generatedNamespace)
            .Select(static (input, _) => Collector.Serialization(input.Left.Left, input.Left.Right, input.Right))
            .WithTrackingName(TrackingNames.Serialization);
        context.RegisterSourceOutput(serialization, static (production, spec) =>
        {
            if (!spec.IsEmpty)
            {
                production.AddSource(SerializationHintName, SourceText.From(new SerializationEmitter(spec).Emit(), Encoding.UTF8));
            }
        });

        IncrementalValueProvider<Model.StorageCodecsSpec> storageCodecs = collectedValues
            .Combine(generatedNamespace)
            .Select(static (input, _) => Collector.StorageCodecs(input.Left, input.Right))
            .WithTrackingName(TrackingNames.StorageCodecs);
        context.RegisterSourceOutput(storageCodecs, static (production, spec) =>
        {
            if (spec.Values.Count > 0)
            {
                production.AddSource(StorageCodecsHintName, SourceText.From(new StorageCodecEmitter(spec).Emit(), Encoding.UTF8));
            }
        });
    }

    private static void ReportDiagnostics(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<ImmutableArray<Diagnostic>> diagnostics, string trackingName)
    {
        context.RegisterSourceOutput(
            diagnostics.Where(static diagnostics => !diagnostics.IsEmpty).WithTrackingName(trackingName),
            static (production, diagnostics) =>
            {
                foreach (var diagnostic in diagnostics)
                {
                    production.ReportDiagnostic(diagnostic);
                }
            });
    }

    private static void EmitObject(SourceProductionContext production, Model.ObjectSpec model, string generatedNamespace)
    {
        var source = new ObjectEmitter(model, generatedNamespace).Emit();
        production.AddSource(model.HintName, SourceText.From(source, Encoding.UTF8));
    }
}
