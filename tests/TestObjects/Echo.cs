using Google.Protobuf.WellKnownTypes;

namespace SourceGenDO.TestObjects;

public enum Color
{
    Red = 1,
    Green = 2,
    Blue = -3,
}

public sealed record Point(int X, int Y);

public sealed record Node(int Value, Node? Next);

/// <summary>A class with settable properties and a parameterless constructor.</summary>
public sealed class Settings
{
    public string Title { get; set; } = "";
    public List<Point> Points { get; set; } = [];
    public Dictionary<string, int>? Limits { get; set; }
    public required int Version { get; init; }
}

/// <summary>Every supported type in one record.</summary>
public sealed record Everything(
    bool Bool, byte Byte, sbyte SByte, short Short, ushort UShort, int Int, uint UInt, long Long, ulong ULong,
    char Char, float Float, double Double, decimal Decimal, string? Text, byte[]? Bytes, Guid Guid,
    DateTime DateTime, DateTimeOffset DateTimeOffset, TimeSpan TimeSpan, Color Color, int? MaybeInt,
    List<string?>? Names, int[]? Numbers, Dictionary<string, Point?>? Map, Point? Point, List<Point>? Points);

/// <summary>Returns what it is given: round trips every supported type through the wire.</summary>
public class Echo(DurableObjectState ctx) : DurableObject(ctx)
{
    public Task<Everything> Everything(Everything value) => Task.FromResult(value);

    public Task<string?> Text(string? value) => Task.FromResult(value);

    public ValueTask<byte[]?> Bytes(byte[]? value) => ValueTask.FromResult(value);

    public Task<int?> MaybeInt(int? value) => Task.FromResult(value);

    public Task<decimal> Decimal(decimal value) => Task.FromResult(value);

    public Task<Color> Color(Color value) => Task.FromResult(value);

    public Task<Node?> Linked(Node? value) => Task.FromResult(value);

    public Task<Settings> Settings(Settings value) => Task.FromResult(value);

    public Task<Dictionary<string, List<int>>?> Nested(Dictionary<string, List<int>>? value) => Task.FromResult(value);

    public Task<List<List<Point?>?>> ListOfLists(List<List<Point?>?> value) => Task.FromResult(value);

    public Task<Timestamp> Protobuf(Timestamp value) => Task.FromResult(value);

    public Task<int> Sum(int a, int b = 2, int c = 3) => Task.FromResult(a + b + c);

    public Task<int> Length(byte[] payload) => Task.FromResult(payload.Length);

    public Task<byte[]> Allocate(int length) => Task.FromResult(new byte[length]);

    public ValueTask Nothing() => ValueTask.CompletedTask;
}
