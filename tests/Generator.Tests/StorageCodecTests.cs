using System.Text.RegularExpressions;

namespace SourceGenDO.Generator.Tests;

/// <summary>
/// Which storage calls get codecs: every non-scalar value type a call to DurableObjectStorageOperations
/// stores or reads, once per assembly, wherever the call is; scalars and other methods get none.
/// </summary>
public sealed partial class StorageCodecTests
{
    [Fact]
    public void ScalarsTheRuntimeCoversGetNoCodec()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public class Keeper(DurableObjectState ctx) : DurableObject(ctx)
            {
                public async Task Run()
                {
                    Ctx.Storage.Put("a", 1L);
                    Ctx.Storage.Put("b", "text");
                    Ctx.Storage.Put("c", new byte[] { 1 });
                    Ctx.Storage.Put<Guid?>("d", null);
                    Ctx.Storage.Put("e", DateTimeOffset.UnixEpoch);
                    await Ctx.Storage.PutAsync(new Dictionary<string, bool?> { ["f"] = true });
                    _ = await Ctx.Storage.GetAsync<decimal>("g", 1m);
                    _ = await Ctx.Storage.ListAsync<TimeSpan?>();
                    _ = await Ctx.Storage.GetAsync<char>(["h"]);
                }
            }
            """);

        Assert.Empty(outcome.Diagnostics);
        Assert.DoesNotContain(outcome.Sources, static s => s.HintName == DurableObjectGenerator.StorageCodecsHintName);
    }

    [Fact]
    public void EachStoredTypeGetsOneCodecWhateverItsAnnotationAndHowOftenItIsUsed()
    {
        var outcome = GeneratorHarness.Run(Cart, """
            namespace Shop;

            public class First(DurableObjectState ctx) : DurableObject(ctx)
            {
                public async Task Run(Cart cart)
                {
                    Ctx.Storage.Put("cart", cart);
                    Ctx.Storage.Put<Cart?>("maybe", null);
                    _ = await Ctx.Storage.GetAsync<Cart>("cart");
                }
            }

            public class Second(DurableObjectState ctx) : DurableObject(ctx)
            {
                public async Task<Cart?> Run() => await Ctx.Storage.GetAsync<Cart?>("cart");
            }
            """);

        var codecs = outcome.Source(DurableObjectGenerator.StorageCodecsHintName);
        Assert.Single(CodecDeclaration().Matches(codecs));
        Assert.Single(Regex.Matches(codecs, @"ValueCodecs\.Register<global::Shop\.Cart>\("));
        Assert.Empty(outcome.CompilationProblems);
    }

    [Fact]
    public void AttachmentTypesGetACodecLikeStoredValues()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public sealed record Visitor(string Name, int Visits);

            public sealed record Badge(string Label);

            public class Room(DurableObjectState ctx) : DurableObject(ctx)
            {
                protected override Task WebSocketMessage(DurableWebSocket socket, DurableWebSocketMessage message)
                {
                    socket.SerializeAttachment(new Visitor("ann", 1));
                    _ = socket.DeserializeAttachment<Badge>();
                    socket.SerializeAttachment(42L);
                    return Task.CompletedTask;
                }
            }
            """);

        Assert.Empty(outcome.Diagnostics);
        var codecs = outcome.Source(DurableObjectGenerator.StorageCodecsHintName);
        Assert.Single(Regex.Matches(codecs, @"ValueCodecs\.Register<global::Shop\.Visitor>\("));
        Assert.Single(Regex.Matches(codecs, @"ValueCodecs\.Register<global::Shop\.Badge>\("));
        Assert.DoesNotContain("Register<long>", codecs, StringComparison.Ordinal);
        Assert.Empty(outcome.CompilationProblems);
    }

    [Fact]
    public void NullableValueTypesGetTheirOwnCodec()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public enum Stage { Draft = 1 }

            public class Keeper(DurableObjectState ctx) : DurableObject(ctx)
            {
                public async Task<Stage?> Run()
                {
                    Ctx.Storage.Put("stage", Stage.Draft);
                    return await Ctx.Storage.GetAsync<Stage?>("stage");
                }
            }
            """);

        var codecs = outcome.Source(DurableObjectGenerator.StorageCodecsHintName);
        Assert.Equal(2, CodecDeclaration().Matches(codecs).Count);
        Assert.Contains("ValueCodecs.Register<global::Shop.Stage>(", codecs, StringComparison.Ordinal);
        Assert.Contains("ValueCodecs.Register<global::Shop.Stage?>(", codecs, StringComparison.Ordinal);
    }

    [Fact]
    public void StorageCallsOutsideDurableObjectsGetCodecs()
    {
        var outcome = GeneratorHarness.Run(Cart, """
            namespace Shop;

            public static class Carts
            {
                public static void Save(DurableObjectStorage storage, Cart cart) => storage.Put("cart", cart);

                public static async Task<Cart?[]> Load(DurableObjectTransaction transaction) => await transaction.GetAsync<Cart?[]>("carts") ?? [];
            }
            """);

        Assert.Empty(outcome.Diagnostics);
        Assert.Equal(
            [DurableObjectGenerator.SerializationHintName, DurableObjectGenerator.StorageCodecsHintName],
            outcome.Sources.Select(static s => s.HintName));
        Assert.Equal(2, CodecDeclaration().Matches(outcome.Source(DurableObjectGenerator.StorageCodecsHintName)).Count);
        Assert.Empty(outcome.CompilationProblems);
    }

    [Fact]
    public void CodecsCallTheHelpersTheStubsCall()
    {
        var outcome = GeneratorHarness.Run(Cart, """
            namespace Shop;

            public class Keeper(DurableObjectState ctx) : DurableObject(ctx)
            {
                public async Task<Cart?> Swap(Cart cart)
                {
                    var old = await Ctx.Storage.GetAsync<Cart>("cart");
                    Ctx.Storage.Put("cart", cart);
                    return old;
                }
            }
            """);

        var writer = Assert.Single(Regex.Matches(outcome.Source(DurableObjectGenerator.SerializationHintName), @"internal static void (Write_Cart_[0-9A-F]{16})\(")).Groups[1].Value;
        Assert.Contains($"Serializers.{writer}(__arguments, 1, cart);", outcome.Source("Shop.Keeper.g.cs"), StringComparison.Ordinal);
        Assert.Contains($"Serializers.{writer}(writer, 1, value);", outcome.Source(DurableObjectGenerator.StorageCodecsHintName), StringComparison.Ordinal);
    }

    private const string Cart = """
        namespace Shop;

        public sealed record Cart(string Owner, List<string> Items);
        """;

    [GeneratedRegex(@"file sealed class Codec_\w+ : ")]
    private static partial Regex CodecDeclaration();
}
