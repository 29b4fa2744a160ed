namespace SourceGenDO.Generator.Tests;

/// <summary>
/// Durable object classes shared by the snapshot and compile tests, so that every snapshot is also
/// proven to compile cleanly. Each is prefixed with <see cref="GeneratorHarness.Usings"/>.
/// </summary>
internal static class TestSources
{
    public const string Counter = """
        namespace Shop;

        public class Counter(DurableObjectState ctx) : DurableObject(ctx)
        {
            private long _value;

            /// <summary>Adds <paramref name="amount"/> and returns the new value.</summary>
            public Task<long> Increment(long amount = 1) => Task.FromResult(_value += amount);
        }
        """;

    public const string EverySupportedType = """
        using Google.Protobuf.WellKnownTypes;

        namespace Shop;

        public enum Color { Red = 1, Green = 2, Blue = -3 }

        public enum Bits : ulong { None = 0, High = 0x8000000000000000 }

        public sealed record Line(string Sku, int Quantity, decimal Price);

        public record Order(Guid Id, List<Line> Lines, Dictionary<string, string>? Tags, DateTimeOffset PlacedAt)
        {
            public string? Note { get; init; }
        }

        public sealed record Node(int Value, Node? Next);

        public record struct Point(double X, double Y);

        public sealed class Settings
        {
            public string Title { get; set; } = "";
            public required int Version { get; init; }
            public Point? Origin { get; set; }
        }

        public sealed record Page<T>(List<T> Items, int Total);

        public class Base
        {
            public int BaseValue { get; set; }
        }

        public sealed class Derived : Base
        {
            public string? Extra { get; set; }
        }

        public sealed class Snapshot(string name, long count)
        {
            public string Name { get; } = name;
            public long Count { get; } = count;
            public string Display => Name + Count;
        }

        public class Everything(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<bool> Scalars(bool flag, sbyte tiny, short small, int number, long big, byte octet, ushort word, uint dword, ulong qword, char letter, float single, double real, decimal money) =>
                Task.FromResult(flag);

            public Task<string?> Text(string? text, byte[]? bytes) => Task.FromResult(text);

            public Task<DateTime> Times(Guid id, DateTime at, DateTimeOffset offset, TimeSpan duration) => Task.FromResult(at);

            public Task<Color> Enums(Color color, Bits bits, Color? maybe) => Task.FromResult(color);

            public Task<int?> Nullables(int? number, Guid? id, Point? point) => Task.FromResult(number);

            public Task<Order> Place(Order order) => Task.FromResult(order);

            public Task<Node?> Link(Node? head) => Task.FromResult(head);

            public Task<List<string?>> Lists(List<string?> names, List<int> numbers, List<Point?>? points) => Task.FromResult(names);

            public Task<int[]> Arrays(int[] numbers, string[]? names, Line[][] grid) => Task.FromResult(numbers);

            public Task<Dictionary<string, List<int>>> Maps(Dictionary<Guid, Line?> byId, Dictionary<Color, int> counts) =>
                Task.FromResult(new Dictionary<string, List<int>>());

            public Task<Settings> Configure(Settings settings, Derived derived, Snapshot snapshot) => Task.FromResult(settings);

            public Task<Page<Line>> Paged(Page<int> numbers) => Task.FromResult(new Page<Line>([], numbers.Total));

            public Task<Timestamp> Stamp(Timestamp at) => Task.FromResult(at);

            public Task Defaults(
                int a = -1, long b = 1, uint c = 2, ulong d = 3, float e = 2.5f, double f = 1.5, decimal g = 1.5m,
                string h = "quote \" backslash \\ newline \n", char i = '\'', bool j = true, Color k = Color.Blue,
                Color? l = Color.Green, string? m = null, Guid n = default, int? o = null, double p = 1.0,
                float q = float.NaN, short r = -2, params int[] rest) => Task.CompletedTask;
        }
        """;

    public const string NestedClassWithServices = """
        using Other;

        namespace Shop
        {
            public interface IClock
            {
                DateTime Now { get; }
            }

            public static class Outer
            {
                public class Inner(
                    DurableObjectState ctx,
                    DurableObjectNamespace<Outer_InnerStub> self,
                    DurableObjectNamespace<RemoteStub> remote,
                    IServiceProvider services,
                    IClock clock) : DurableObject(ctx)
                {
                    public Task<string> Describe() => Task.FromResult($"{self.Name} {remote.Name} {services} {clock.Now}");
                }
            }
        }

        namespace Other
        {
            public sealed class Remote(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task Ping() => Task.CompletedTask;
            }
        }
        """;

    public const string CounterInNamespaceA = """
        namespace A;

        public class Counter(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<int> Next() => Task.FromResult(1);
        }
        """;

    public const string CounterInNamespaceB = """
        namespace B;

        public class Counter(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<string> Next() => Task.FromResult("b");
        }
        """;

    public const string GlobalNamespace = """
        public class Greeter(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<string> Greet(string name) => Task.FromResult("Hello, " + name);
        }

        internal sealed class Secret(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<int> Reveal() => Task.FromResult(42);
        }
        """;

    public const string ValueTaskAndCancellation = """
        namespace Shop;

        public class Worker(DurableObjectState ctx) : DurableObject(ctx)
        {
            public ValueTask Start() => ValueTask.CompletedTask;

            public ValueTask<int> Measure(string text, CancellationToken cancellationToken = default) => ValueTask.FromResult(text.Length);

            public Task Wait(TimeSpan delay, CancellationToken cancellationToken) => Task.Delay(delay, cancellationToken);

            public Task<string> Echo(string text, CancellationToken ct) => Task.FromResult(text);
        }
        """;

    public const string AbstractBase = """
        namespace Shop;

        public sealed record Profile
        {
            public string Name { get; set; } = "";
        }

        public abstract class Entity<TState>(DurableObjectState ctx) : DurableObject(ctx) where TState : new()
        {
            protected TState State { get; set; } = new();

            public virtual Task<string> Describe() => Task.FromResult("entity");

            public Task<int> Version() => Task.FromResult(1);

            public abstract Task<TState> Get();
        }

        public abstract class Named(DurableObjectState ctx) : Entity<Profile>(ctx)
        {
            public Task<string> Title() => Task.FromResult(State.Name);
        }

        public class ProfileObject(DurableObjectState ctx) : Named(ctx)
        {
            public override Task<string> Describe() => Task.FromResult("profile");

            public override Task<Profile> Get() => Task.FromResult(State);

            public override string ToString() => "profile";

            public Task Fetch() => Task.CompletedTask;

            public Task Rename(string name)
            {
                State = State with { Name = name };
                return Task.CompletedTask;
            }
        }
        """;

    // Storage calls of every shape: through Ctx.Storage and a transaction, with explicit and inferred
    // type arguments, single and batch; scalars (long, string) get no codec, the rest one each.
    public const string StoredValues = """
        namespace Shop;

        public enum Stage { Draft = 1, Sent = 2 }

        public sealed record Cart(string Owner, List<string> Items, Dictionary<string, int> Counts, Stage Stage)
        {
            public string? Note { get; init; }
        }

        public class Store(DurableObjectState ctx) : DurableObject(ctx)
        {
            public async Task<int> Save(Cart cart, Stage? stage)
            {
                Ctx.Storage.Put("cart", cart);
                Ctx.Storage.Put("count", 1L);
                Ctx.Storage.Put("owner", cart.Owner);
                Ctx.Storage.Put("stage", cart.Stage);
                Ctx.Storage.Put("maybe", stage);
                await Ctx.Storage.PutAsync(new Dictionary<string, int[]> { ["numbers"] = [1, 2] });
                var carts = await Ctx.Storage.GetAsync<Cart>(["cart", "other"]);
                var stages = await Ctx.Storage.ListAsync<Stage?>(new ListOptions { Prefix = "s" });
                var byOwner = await Ctx.Storage.GetAsync("owners", new Dictionary<string, Cart?>());
                var names = await Ctx.Storage.GetAsync<List<string>?>("names");
                var count = await Ctx.Storage.GetAsync<long?>("count");
                return carts.Count + stages.Count + byOwner.Count + (names?.Count ?? 0) + (int)(count ?? 0);
            }

            public Task Archive() => Ctx.Storage.TransactionAsync(async transaction =>
            {
                var cart = await transaction.GetAsync<Cart>("cart");
                transaction.Put("archived", cart);
                transaction.Put("history", new List<Cart?> { cart });
            });
        }
        """;
}
