namespace SourceGenDO.Generator.Tests;

/// <summary>The generator never throws: broken code yields compiler errors and, at most, SGDO diagnostics.</summary>
public sealed class RobustnessTests
{
    // Unknown types in signatures, properties and constructors.
    private const string UnknownTypes = """
        public record Wrapper(Missing Value, List<AlsoMissing> Items);
        public class Errors(DurableObjectState ctx, Unknown service, DurableObjectNamespace<Nowhere.NoStub> other) : DurableObject(ctx)
        {
            public Task Use(Missing value) => Task.CompletedTask;
            public Task<Missing> Get() => null!;
            public Task<List<Missing>> All() => null!;
            public Task Wrap(Wrapper wrapper) => Task.CompletedTask;
            public Missing Sync() => null!;
            public Task Good() => Task.CompletedTask;
        }
        """;

    // Two declarations with base lists of one partial class must still make one file.
    private const string SplitPartial = """
        public partial class Split(DurableObjectState ctx) : DurableObject(ctx) { public Task A() => Task.CompletedTask; }
        public partial class Split : IDisposable { public void Dispose() { } public Task B() => Task.CompletedTask; }
        """;

    public static TheoryData<string> BrokenSources => new()
    {
        // Syntax errors.
        "public class Broken(DurableObjectState ctx) : DurableObject(ctx) { public Task<int> Half( => }",
        "public class : DurableObject { }",
        "public class Dangling : ",
        "public partial class Half(DurableObjectState ctx) : DurableObject(ctx) { public Task<",
        // A missing base type, and inheritance cycles.
        "public class Orphan(DurableObjectState ctx) : MissingBase(ctx) { public Task Run() => Task.CompletedTask; }",
        "public class Ping : Pong { } public class Pong : Ping { }",
        UnknownTypes,
        // No constructor that compiles, static and abstract shapes, odd members.
        "public class NoConstructor : DurableObject { public Task Run() => Task.CompletedTask; }",
        "public static class Static : DurableObject { }",
        """
        public class Odd(DurableObjectState ctx) : DurableObject(ctx)
        {
            private int _field;
            public ref int Ref() => ref _field;
            public Task this[int index] => Task.CompletedTask;
            public event EventHandler? Changed;
            public static Task operator +(Odd a, Odd b) => Task.CompletedTask;
            public Task Params(params Task[] tasks) => Task.CompletedTask;
            public unsafe Task Pointer(int* value) => Task.CompletedTask;
            public Task Good() => Task.CompletedTask;
        }
        """,
        SplitPartial,
        // A class named like the base in another namespace, and a user-defined look-alike.
        """
        namespace Fake { public abstract class DurableObject { } }
        public class NotDurable : Fake.DurableObject { public Task Run() => Task.CompletedTask; }
        """,
        // Deeply nested recursive types.
        """
        public record A(B? B, List<A>? Items);
        public record B(A? A, Dictionary<string, B?>? Map);
        public class Recursive(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<A?> Get(B? b) => Task.FromResult(b?.A);
        }
        """,
    };

    [Theory]
    [MemberData(nameof(BrokenSources))]
    public void BrokenCodeNeverCrashesTheGenerator(string source)
    {
        var outcome = GeneratorHarness.Run(source);

        Assert.All(outcome.RunResult.Results, static r => Assert.Null(r.Exception));
        Assert.DoesNotContain(outcome.RunResult.Diagnostics, static d => d.Id is "CS8784" or "CS8785");
        Assert.All(outcome.Diagnostics, static d => Assert.StartsWith("SGDO", d.Id, StringComparison.Ordinal));
    }

    [Fact]
    public void UnknownTypesLeaveMethodsOutWithoutSGDODiagnostics()
    {
        var outcome = GeneratorHarness.Run(UnknownTypes);

        Assert.DoesNotContain(outcome.Diagnostics, static d => d.Id is "SGDO0005" or "SGDO0006");
        var stub = outcome.Source("Errors.g.cs");
        Assert.Contains(" Good()", stub, StringComparison.Ordinal);
        Assert.DoesNotContain(" Use(", stub, StringComparison.Ordinal);
    }

    [Fact]
    public void PartialClassWithTwoBaseListsGetsOneFile()
    {
        var outcome = GeneratorHarness.Run(SplitPartial);

        var file = Assert.Single(outcome.Sources);
        Assert.Equal("Split.g.cs", file.HintName);
        Assert.Empty(outcome.CompilationProblems);
    }
}
