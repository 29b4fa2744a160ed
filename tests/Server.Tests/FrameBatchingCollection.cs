namespace SourceGenDO.Server.Tests;

/// <summary>
/// Tests that count how results share frames run alone: a generation of write holds ends when no hold
/// moved for about a millisecond, so other test classes starting servers on the same two cores can end
/// it early and split the frames the tests count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FrameBatchingCollection
{
    public const string Name = "Counts frames";
}
