namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// Tests that block thread-pool threads on purpose run alone: beside other tests, the threads they hold
/// would starve those tests' own calls of threads until the pool grows.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadBlockingCollection
{
    public const string Name = "Blocks thread-pool threads";
}
