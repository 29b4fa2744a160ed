namespace SourceGenDO.Generator;

/// <summary>Names of the pipeline steps, so that incremental tests can find them in the driver's run result.</summary>
internal static class TrackingNames
{
    /// <summary>The semantic transform: one parse result (model and diagnostics) per durable object class.</summary>
    public const string ObjectClasses = nameof(ObjectClasses);

    /// <summary>The equatable models of the classes' files, selected from the parse results; their emission is cached on these.</summary>
    public const string Models = nameof(Models);

    /// <summary>What each class adds to the assembly's serialization helpers, selected from the parse results.</summary>
    public const string ObjectSerialization = nameof(ObjectSerialization);

    /// <summary>The diagnostics selected from the parse results.</summary>
    public const string Diagnostics = nameof(Diagnostics);

    /// <summary>The assembly's generated namespace, from the compilation's assembly name.</summary>
    public const string GeneratedNamespace = nameof(GeneratedNamespace);

    /// <summary>The semantic transform of storage calls: one parse result per call that needs a codec or a diagnostic.</summary>
    public const string StorageCalls = nameof(StorageCalls);

    /// <summary>The stored value types selected from the storage calls' parse results.</summary>
    public const string StoredValues = nameof(StoredValues);

    /// <summary>The diagnostics selected from the storage calls' parse results.</summary>
    public const string StorageDiagnostics = nameof(StorageDiagnostics);

    /// <summary>The assembly's serialization helpers, merged from every model and stored value; their file is cached on it.</summary>
    public const string Serialization = nameof(Serialization);

    /// <summary>The assembly's storage codecs, merged from every stored value; their file is cached on it.</summary>
    public const string StorageCodecs = nameof(StorageCodecs);
}
