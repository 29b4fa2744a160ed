namespace SourceGenDO.TestObjects;

/// <summary>Repeated scalars of every encoding: what a proto3 writer sends packed.</summary>
public sealed record Packables(
    bool[] Bools, List<int> Ints, long[] Longs, List<byte> Octets, uint[] UInts, ulong[] ULongs, char[] Chars,
    float[] Floats, double[] Doubles, DateTime[] Times, TimeSpan[] Spans, Color[] Colors);

/// <summary>Strings and collections that a proto3 writer leaves out when they are empty.</summary>
public sealed record Shapes(string Text, byte[] Bytes, List<int> Numbers, Dictionary<string, int> Map, string? MaybeText, Point? MaybePoint);

/// <summary>Reports the shape in which its arguments arrive, and returns null where its signature says it never does.</summary>
public class WireShapes(DurableObjectState ctx) : DurableObject(ctx)
{
    public Task<Packables> EchoPackables(Packables value) => Task.FromResult(value);

    public Task<long> Sum(int[] ints, List<long> longs, Dictionary<string, double[]> weights) =>
        Task.FromResult(ints.Sum() + longs.Sum() + (long)weights.Values.SelectMany(static w => w).Sum());

    public Task<string> Describe(
        string text, byte[] bytes, int[] numbers, List<string> names, Dictionary<string, int> map,
        string? maybeText, List<int>? maybeList, Shapes shape) =>
        Task.FromResult(string.Join(" ", Show(text), Show(bytes), Show(numbers), Show(names), Show(map), Show(maybeText), Show(maybeList))
            + " | " + string.Join(" ", Show(shape.Text), Show(shape.Bytes), Show(shape.Numbers), Show(shape.Map), Show(shape.MaybeText), Show(shape.MaybePoint)));

    public Task<int> Scale(int factor, Point point) => Task.FromResult(point.X * factor);

    // The signatures promise values; a null slips through (as it can with `null!`) and is sent as absent.
    public Task<string> NullText() => Task.FromResult<string>(null!);

    public Task<byte[]> NullBytes() => Task.FromResult<byte[]>(null!);

    public Task<int[]> NullArray() => Task.FromResult<int[]>(null!);

    public Task<List<string>> NullList() => Task.FromResult<List<string>>(null!);

    public Task<Dictionary<string, int>> NullMap() => Task.FromResult<Dictionary<string, int>>(null!);

    public Task<string?> NullableText() => Task.FromResult<string?>(null);

    public Task<List<int>?> NullableList() => Task.FromResult<List<int>?>(null);

    private static string Show(object? value) => value switch
    {
        null => "null",
        string text => "'" + text + "'",
        System.Collections.ICollection collection => collection.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => "object",
    };
}
