namespace SourceGenDO.Generator.Tests;

/// <summary>What the generator emits, compared with the committed snapshots under Snapshots/.</summary>
public sealed class SnapshotTests
{
    [Fact]
    public void CounterGetsStubDispatcherAndRegistration() =>
        Snapshot.Verify(GeneratorHarness.Run(TestSources.Counter));

    [Fact]
    public void EverySupportedTypeGetsSerializationHelpers() =>
        Snapshot.Verify(GeneratorHarness.Run(TestSources.EverySupportedType));

    [Fact]
    public void NestedClassGetsTopLevelStubAndConstructorServices() =>
        Snapshot.Verify(GeneratorHarness.Run(TestSources.NestedClassWithServices));

    [Fact]
    public void SameNamedClassesInTwoNamespacesGetSeparateFiles() =>
        Snapshot.Verify(GeneratorHarness.Run(TestSources.CounterInNamespaceA, TestSources.CounterInNamespaceB));

    [Fact]
    public void GlobalNamespaceClassesGetStubsInTheGlobalNamespace() =>
        Snapshot.Verify(GeneratorHarness.Run(TestSources.GlobalNamespace));

    [Fact]
    public void ValueTaskAndCancellationTokenMethodsArePassedThrough() =>
        Snapshot.Verify(GeneratorHarness.Run(TestSources.ValueTaskAndCancellation));

    [Fact]
    public void AbstractBaseMethodsComeFirstAndOverridesReplaceThem() =>
        Snapshot.Verify(GeneratorHarness.Run(TestSources.AbstractBase));

    [Fact]
    public void StoredValueTypesGetCodecsOverTheSharedHelpers() =>
        Snapshot.Verify(GeneratorHarness.Run(TestSources.StoredValues));

    [Fact]
    public void HintNamesComeFromMetadataNames()
    {
        var outcome = GeneratorHarness.Run(TestSources.NestedClassWithServices, TestSources.CounterInNamespaceA, TestSources.CounterInNamespaceB, TestSources.GlobalNamespace);

        Assert.Equal(
            ["A.Counter.g.cs", "B.Counter.g.cs", "Greeter.g.cs", "Other.Remote.g.cs", "Secret.g.cs", "Shop.Outer+Inner.g.cs", DurableObjectGenerator.SerializationHintName],
            outcome.Sources.Select(static s => s.HintName));
    }

    [Fact]
    public void InternalClassGetsInternalStubAndPublicClassGetsPublicStub()
    {
        var outcome = GeneratorHarness.Run(TestSources.GlobalNamespace);

        Assert.Contains("internal sealed class SecretStub", outcome.Source("Secret.g.cs"), StringComparison.Ordinal);
        Assert.Contains("public sealed class GreeterStub", outcome.Source("Greeter.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void GeneratedFilesAreIdenticalAcrossRuns()
    {
        var first = GeneratorHarness.Run(TestSources.EverySupportedType, TestSources.StoredValues.Replace("namespace Shop;", "namespace Stored;", StringComparison.Ordinal));
        var second = GeneratorHarness.Run(TestSources.EverySupportedType, TestSources.StoredValues.Replace("namespace Shop;", "namespace Stored;", StringComparison.Ordinal));

        Assert.Equal(
            first.Sources.Select(static s => (s.HintName, s.SourceText.ToString())),
            second.Sources.Select(static s => (s.HintName, s.SourceText.ToString())));
    }
}
