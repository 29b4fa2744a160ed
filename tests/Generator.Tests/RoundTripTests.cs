using System.Reflection;
using System.Runtime.Loader;
using SourceGenDO.Dispatch;
using SourceGenDO.Serialization;

namespace SourceGenDO.Generator.Tests;

/// <summary>
/// The generated dispatcher, loaded and called: arguments written by hand in the documented wire
/// format (docs/wire-format.md) decode, and echoed results encode to the same bytes.
/// </summary>
public sealed class RoundTripTests
{
    private const string EchoSource = """
        namespace Echoes;

        public enum Mood { Calm = 1, Angry = -5 }

        public sealed record Item(string Name, int? Count, Mood Mood);

        public sealed record Node(int Value, Node? Next);

        public class Echo(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<Item> Item(Item value) => Task.FromResult(value);

            public Task<List<string?>?> Names(List<string?>? value) => Task.FromResult(value);

            public Task<Dictionary<string, Item?>> Map(Dictionary<string, Item?> value) => Task.FromResult(value);

            public Task<Node?> Chain(Node? value) => Task.FromResult(value);

            public async ValueTask<int[]> Numbers(int[] value, CancellationToken cancellationToken)
            {
                await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
                return value;
            }

            public Task<string> Defaults(string text = "x", int number = 7) => Task.FromResult(text + number);
        }
        """;

    private static readonly Lazy<Assembly> Echoes = new(() => CompileAndLoad(EchoSource));

    [Fact]
    public async Task CounterIncrementMatchesTheWireFormatExample()
    {
        var dispatcher = DispatcherFor(CompileAndLoad(TestSources.Counter), "Shop.Counter");
        var counter = dispatcher.Create(NewState());

        var result = await dispatcher.InvokeAsync(counter, "Increment", new byte[] { 0x08, 0x0A }, CancellationToken.None);

        Assert.Equal(new byte[] { 0x08, 0x0A }, result.ToArray());
        Assert.Equal("Shop.Counter", dispatcher.ClassName);
    }

    [Fact]
    public Task RecordWithNullableAndEnumPropertiesRoundTrips() => AssertEchoes("Item", writer =>
    {
        var item = writer.BeginMessage(1);
        writer.WriteString(1, "pen");
        writer.WriteInt64(3, -5);
        writer.EndMessage(item);
    });

    [Fact]
    public Task ListWithNullElementUsesEmptyBox() => AssertEchoes("Names", writer =>
    {
        var list = writer.BeginMessage(1);
        var first = writer.BeginMessage(1);
        writer.WriteString(1, "a");
        writer.EndMessage(first);
        writer.EndMessage(writer.BeginMessage(1));
        var third = writer.BeginMessage(1);
        writer.WriteString(1, "");
        writer.EndMessage(third);
        writer.EndMessage(list);
    });

    [Fact]
    public Task EmptyListStaysEmptyNotNull() => AssertEchoes("Names", writer => writer.EndMessage(writer.BeginMessage(1)));

    [Fact]
    public Task NullListStaysNull() => AssertEchoes("Names", _ => { });

    [Fact]
    public Task DictionaryEntriesHoldKeyAndOptionalValue() => AssertEchoes("Map", writer =>
    {
        var map = writer.BeginMessage(1);
        var entry = writer.BeginMessage(1);
        writer.WriteString(1, "k");
        var item = writer.BeginMessage(2);
        writer.WriteString(1, "cup");
        writer.WriteInt32(2, 0);
        writer.WriteInt64(3, 1);
        writer.EndMessage(item);
        writer.EndMessage(entry);
        var nullEntry = writer.BeginMessage(1);
        writer.WriteString(1, "none");
        writer.EndMessage(nullEntry);
        writer.EndMessage(map);
    });

    [Fact]
    public Task RecursiveRecordRoundTrips() => AssertEchoes("Chain", writer =>
    {
        var first = writer.BeginMessage(1);
        writer.WriteInt32(1, 1);
        var second = writer.BeginMessage(2);
        writer.WriteInt32(1, 2);
        var third = writer.BeginMessage(2);
        writer.WriteInt32(1, 3);
        writer.EndMessage(third);
        writer.EndMessage(second);
        writer.EndMessage(first);
    });

    [Fact]
    public Task ValueTaskWithCancellationTokenRoundTrips() => AssertEchoes("Numbers", writer =>
    {
        var numbers = writer.BeginMessage(1);
        writer.WriteInt32(1, 1);
        writer.WriteInt32(1, 0);
        writer.WriteInt32(1, -7);
        writer.EndMessage(numbers);
    });

    [Fact]
    public async Task CancellationTokenReachesTheMethod()
    {
        var dispatcher = DispatcherFor(Echoes.Value, "Echoes.Echo");
        var echo = dispatcher.Create(NewState());
        var writer = new WireWriter();
        writer.EndMessage(writer.BeginMessage(1));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await dispatcher.InvokeAsync(echo, "Numbers", writer.ToArray(), new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task UnknownFieldsAreSkippedAndAbsentArgumentsAreDefault()
    {
        var dispatcher = DispatcherFor(Echoes.Value, "Echoes.Echo");
        var echo = dispatcher.Create(NewState());
        var arguments = new WireWriter();
        arguments.WriteString(9, "ignored");

        var result = await dispatcher.InvokeAsync(echo, "Defaults", arguments.ToArray(), CancellationToken.None);

        var expected = new WireWriter();
        expected.WriteString(1, "0");
        Assert.Equal(expected.ToArray(), result.ToArray());
    }

    [Fact]
    public async Task UnknownMethodFailsWithTheDocumentedMessage()
    {
        var dispatcher = DispatcherFor(Echoes.Value, "Echoes.Echo");
        var echo = dispatcher.Create(NewState());

        var error = await Assert.ThrowsAnyAsync<DurableObjectException>(async () =>
            await dispatcher.InvokeAsync(echo, "Missing", ReadOnlyMemory<byte>.Empty, CancellationToken.None));

        Assert.Contains("does not implement the method \"Missing\"", error.Message, StringComparison.Ordinal);
    }

    // Echo methods return their argument, so the result message (field 1 = value) has exactly the bytes
    // of the argument message (field 1 = the first parameter).
    private static async Task AssertEchoes(string method, Action<WireWriter> writeArguments)
    {
        var dispatcher = DispatcherFor(Echoes.Value, "Echoes.Echo");
        var echo = dispatcher.Create(NewState());
        var arguments = new WireWriter();
        writeArguments(arguments);

        var result = await dispatcher.InvokeAsync(echo, method, arguments.ToArray(), CancellationToken.None);

        Assert.Equal(Convert.ToHexString(arguments.ToArray()), Convert.ToHexString(result.Span));
    }

    internal static Assembly CompileAndLoad(string source)
    {
        var outcome = GeneratorHarness.Run(source);
        using var stream = new MemoryStream();
        var emit = outcome.Output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        stream.Position = 0;
        // The runtime assembly resolves to the one this test already loaded, so the registry is shared.
        return new AssemblyLoadContext(name: null, isCollectible: true).LoadFromStream(stream);
    }

    // The registry lookup is generic over the object type, which exists only in the loaded assembly.
    internal static DurableObjectDispatcher DispatcherFor(Assembly assembly, string className)
    {
        var type = assembly.GetType(className, throwOnError: true)!;
        var get = typeof(DurableObjectRegistry).GetMethod(nameof(DurableObjectRegistry.Get))!.MakeGenericMethod(type);
        return (DurableObjectDispatcher)get.Invoke(null, null)!;
    }

    // DurableObjectId has no public constructor; the tests need any id at all.
    internal static DurableObjectState NewState()
    {
        var id = (DurableObjectId)Activator.CreateInstance(
            typeof(DurableObjectId), BindingFlags.Instance | BindingFlags.NonPublic, binder: null, args: [new byte[DurableObjectId.ByteLength], null], culture: null)!;
        return new DurableObjectState(id);
    }
}
