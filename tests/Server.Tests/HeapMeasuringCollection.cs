namespace SourceGenDO.Server.Tests;

/// <summary>
/// Tests that measure the managed heap run alone: other tests allocating meanwhile would show up in
/// their figures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasuringCollection
{
    public const string Name = "Measures the heap";
}
