namespace SourceGenDO.Generator;

/// <summary>Names of the pipeline steps, so that incremental tests can find them in the driver's run result.</summary>
internal static class TrackingNames
{
    /// <summary>The semantic transform: one parse result (model and diagnostics) per durable object class.</summary>
    public const string ObjectClasses = nameof(ObjectClasses);

    /// <summary>The equatable models selected from the parse results; emission is cached on these.</summary>
    public const string Models = nameof(Models);

    /// <summary>The diagnostics selected from the parse results.</summary>
    public const string Diagnostics = nameof(Diagnostics);
}
