using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace SourceGenDO.Generator;

/// <summary>
/// Emits, for every non-abstract subclass of <c>SourceGenDO.DurableObject</c> in the compilation, a typed
/// stub, a dispatcher with its registration, and the serialization helpers its methods need.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class DurableObjectGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Syntax only: any class with a base list may derive from DurableObject. The transform checks the
        // base chain first and returns null at once for every other class.
        IncrementalValuesProvider<ParseResult> results = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax { BaseList: not null },
                static (syntaxContext, cancellationToken) => Parser.Parse(syntaxContext, cancellationToken))
            .WithTrackingName(TrackingNames.ObjectClasses)
            .Where(static result => result is not null)!;

        // Two branches: the equatable model drives emission (and is cached), the diagnostics are reported
        // separately with their real locations, so that #pragma and .editorconfig suppressions apply.
        IncrementalValuesProvider<Model.ObjectSpec> models = results
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.Models)!;
        context.RegisterSourceOutput(models, static (production, model) => Emit(production, model));

        IncrementalValuesProvider<ImmutableArray<Diagnostic>> diagnostics = results
            .Select(static (result, _) => result.Diagnostics)
            .Where(static diagnostics => !diagnostics.IsEmpty)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (production, diagnostics) =>
        {
            foreach (var diagnostic in diagnostics)
            {
                production.ReportDiagnostic(diagnostic);
            }
        });
    }

    private static void Emit(SourceProductionContext production, Model.ObjectSpec model)
    {
        var source = new Emitter(model).Emit();
        production.AddSource(model.HintName, SourceText.From(source, Encoding.UTF8));
    }
}
