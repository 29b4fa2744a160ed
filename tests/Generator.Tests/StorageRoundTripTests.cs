using SourceGenDO.Serialization;

namespace SourceGenDO.Generator.Tests;

/// <summary>
/// The generated storage codecs, loaded and used: an object stores what it is called with and returns
/// what it reads back, so a codec that loses anything makes the result differ from the argument. The
/// storage is the standalone one of an instance built outside a server, which keeps encoded bytes.
/// </summary>
public sealed class StorageRoundTripTests
{
    private const string KeeperSource = """
        namespace Stored;

        public enum Stage { Draft = 1, Sent = -2 }

        public sealed record Cart(string Owner, List<string> Items, Dictionary<string, int> Counts, Stage Stage)
        {
            public string? Note { get; init; }
        }

        public sealed record LegacyCart(string Owner);

        public class Keeper(DurableObjectState ctx) : DurableObject(ctx)
        {
            public async Task<Cart> KeepCart(Cart value)
            {
                Ctx.Storage.Put("value", value);
                var read = await Ctx.Storage.GetAsync<Cart>("value");
                return ReferenceEquals(read, value) || read is null ? throw new InvalidOperationException("not decoded") : read;
            }

            public async Task<List<Cart?>> KeepCarts(List<Cart?> value)
            {
                await Ctx.Storage.PutAsync([new KeyValuePair<string, List<Cart?>>("value", value)]);
                var read = await Ctx.Storage.GetAsync<List<Cart?>>(["value"]);
                return ReferenceEquals(read["value"], value) ? throw new InvalidOperationException("not decoded") : read["value"];
            }

            public async Task<Dictionary<string, Stage>> KeepStages(Dictionary<string, Stage> value)
            {
                Ctx.Storage.Put("value", value);
                var read = await Ctx.Storage.ListAsync<Dictionary<string, Stage>>(new ListOptions { Prefix = "val" });
                return ReferenceEquals(read["value"], value) ? throw new InvalidOperationException("not decoded") : read["value"];
            }

            public async Task<Stage> KeepStage(Stage value)
            {
                Ctx.Storage.Put("value", value);
                return await Ctx.Storage.GetAsync("value", Stage.Draft);
            }

            public async Task<Stage?> KeepMaybeStage(Stage? value)
            {
                Ctx.Storage.Put("value", value);
                return await Ctx.Storage.GetAsync<Stage?>("value");
            }

            public async Task<int[]> KeepNumbers(int[] value)
            {
                await Ctx.Storage.TransactionAsync(async transaction =>
                {
                    transaction.Put("value", value);
                    value = await transaction.GetAsync<int[]>("value") ?? [];
                });
                return value;
            }

            // An older version of the record stored only the owner: the new one reads it back with empty
            // collections, as a call's argument would be decoded.
            public async Task<Cart> Upgrade(string owner)
            {
                Ctx.Storage.Put("legacy", new LegacyCart(owner));
                return await Ctx.Storage.GetAsync<Cart>("legacy") ?? throw new InvalidOperationException("missing");
            }

            public async Task<bool> MissingKeysReadAsNull() =>
                await Ctx.Storage.GetAsync<Cart>("none") is null && await Ctx.Storage.GetAsync<Stage?>("none") is null;
        }
        """;

    private static readonly Lazy<System.Reflection.Assembly> Keepers = new(() => RoundTripTests.CompileAndLoad(KeeperSource));

    [Fact]
    public Task RecordWithCollectionsEnumAndNullablePropertyRoundTrips() => AssertKeeps("KeepCart", writer =>
    {
        var cart = writer.BeginMessage(1);
        writer.WriteString(1, "ann");
        // List<string> elements are boxes (docs/wire-format.md), so that a null element can be told apart.
        var items = writer.BeginMessage(2);
        foreach (var item in new[] { "pen", "" })
        {
            var box = writer.BeginMessage(1);
            writer.WriteString(1, item);
            writer.EndMessage(box);
        }
        writer.EndMessage(items);
        var counts = writer.BeginMessage(3);
        var entry = writer.BeginMessage(1);
        writer.WriteString(1, "pen");
        writer.WriteInt32(2, 3);
        writer.EndMessage(entry);
        writer.EndMessage(counts);
        writer.WriteInt64(4, -2);
        writer.WriteString(5, "gift");
        writer.EndMessage(cart);
    });

    [Fact]
    public Task ListWithNullElementRoundTripsThroughBatchPutAndGet() => AssertKeeps("KeepCarts", writer =>
    {
        var list = writer.BeginMessage(1);
        var first = writer.BeginMessage(1);
        var cart = writer.BeginMessage(1);
        writer.WriteString(1, "bob");
        writer.EndMessage(writer.BeginMessage(2));
        writer.EndMessage(writer.BeginMessage(3));
        writer.WriteInt64(4, 1);
        writer.EndMessage(cart);
        writer.EndMessage(first);
        writer.EndMessage(writer.BeginMessage(1));
        writer.EndMessage(list);
    });

    [Fact]
    public Task DictionaryOfEnumsRoundTripsThroughList() => AssertKeeps("KeepStages", writer =>
    {
        var map = writer.BeginMessage(1);
        foreach (var (key, stage) in new[] { ("a", 1L), ("b", -2L) })
        {
            var entry = writer.BeginMessage(1);
            writer.WriteString(1, key);
            writer.WriteInt64(2, stage);
            writer.EndMessage(entry);
        }
        writer.EndMessage(map);
    });

    [Fact]
    public Task EnumRoundTrips() => AssertKeeps("KeepStage", writer => writer.WriteInt64(1, -2));

    [Fact]
    public Task NullableEnumRoundTrips() => AssertKeeps("KeepMaybeStage", writer => writer.WriteInt64(1, 1));

    [Fact]
    public Task NullNullableEnumStaysNull() => AssertKeeps("KeepMaybeStage", _ => { });

    [Fact]
    public Task ArrayRoundTripsThroughATransaction() => AssertKeeps("KeepNumbers", writer =>
    {
        var numbers = writer.BeginMessage(1);
        writer.WriteInt32(1, 7);
        writer.WriteInt32(1, 0);
        writer.WriteInt32(1, -1);
        writer.EndMessage(numbers);
    });

    [Fact]
    public async Task AbsentStringAndCollectionPropertiesReadBackEmpty()
    {
        var arguments = new WireWriter();
        arguments.WriteString(1, "old");

        var result = await Invoke("Upgrade", arguments.ToArray());

        var expected = new WireWriter();
        var cart = expected.BeginMessage(1);
        expected.WriteString(1, "old");
        expected.EndMessage(expected.BeginMessage(2));
        expected.EndMessage(expected.BeginMessage(3));
        expected.WriteInt64(4, 0);
        expected.EndMessage(cart);
        Assert.Equal(Convert.ToHexString(expected.ToArray()), Convert.ToHexString(result));
    }

    [Fact]
    public async Task MissingKeysReadAsNull()
    {
        var result = await Invoke("MissingKeysReadAsNull", []);

        var expected = new WireWriter();
        expected.WriteBool(1, true);
        Assert.Equal(expected.ToArray(), result);
    }

    // The argument message (field 1 = the value) and the result message (field 1 = the value read back
    // from storage) have the same bytes exactly when the stored value decoded back equal.
    private static async Task AssertKeeps(string method, Action<WireWriter> writeArguments)
    {
        var arguments = new WireWriter();
        writeArguments(arguments);

        var result = await Invoke(method, arguments.ToArray());

        Assert.Equal(Convert.ToHexString(arguments.ToArray()), Convert.ToHexString(result));
    }

    private static async Task<byte[]> Invoke(string method, byte[] arguments)
    {
        var dispatcher = RoundTripTests.DispatcherFor(Keepers.Value, "Stored.Keeper");
        var keeper = dispatcher.Create(RoundTripTests.NewState());
        var result = await dispatcher.InvokeAsync(keeper, method, arguments, CancellationToken.None);
        return result.ToArray();
    }
}
