using SourceGenDO.Ids;

namespace SourceGenDO.Runtime.Tests;

public sealed class NamespaceIdKeyTests
{
    private static readonly NamespaceIdKey Key = new(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
    private static readonly NamespaceIdKey OtherKey = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void NamedIdsAreDeterministicAndBoundToTheirKey()
    {
        Assert.Equal(Key.FromName("a"), Key.FromName("a"));
        Assert.NotEqual(Key.FromName("a"), OtherKey.FromName("a"));
        Assert.True(Key.Owns(Key.FromName("a")));
        Assert.False(Key.Owns(OtherKey.FromName("a")));
        Assert.True(Key.IsNameOf("a", Key.FromName("a")));
        Assert.False(Key.IsNameOf("b", Key.FromName("a")));
    }

    [Fact]
    public void NamesUpTo1024Utf8BytesAreCarriedAndLongerOnesAreNot()
    {
        var fits = new string('é', 512);
        var tooLong = new string('é', 513);
        Assert.Equal(fits, Key.FromName(fits).Name);
        Assert.Null(Key.FromName(tooLong).Name);
        Assert.True(Key.IsNameOf(tooLong, Key.FromName(tooLong)));
    }

    [Fact]
    public void ParsingAcceptsUppercaseHexAndChecksTheMac()
    {
        var id = Key.NewUnique();
        Assert.Equal(id, Key.Parse(id.ToString().ToUpperInvariant()));
        var tampered = id.ToString()[..63] + (id.ToString()[63] == '0' ? '1' : '0');
        Assert.StartsWith("Durable Object ID is not valid for this namespace.", Assert.Throws<ArgumentException>(() => Key.Parse(tampered)).Message);
    }

    [Fact]
    public void ParseErrorsCarryExactlyTheSpecMessagesWithNoParameterSuffix()
    {
        var notHex = Assert.Throws<ArgumentException>(() => Key.Parse("not-hex"));
        Assert.Equal("Invalid Durable Object ID: must be 64 hex digits", notHex.Message);
        var foreign = Assert.Throws<ArgumentException>(() => Key.Parse(OtherKey.FromName("a").ToString()));
        Assert.Equal("Durable Object ID is not valid for this namespace.", foreign.Message);
    }

    [Fact]
    public void KeysShorterThan16BytesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new NamespaceIdKey(new byte[8]));
    }

    [Fact]
    public void TestingIdsAreDeterministicByNameAndCarryIt()
    {
        Assert.Equal(DurableObjectId.ForTesting("a"), DurableObjectId.ForTesting("a"));
        Assert.Equal("a", DurableObjectId.ForTesting("a").Name);
        Assert.NotEqual(DurableObjectId.ForTesting(), DurableObjectId.ForTesting());
        Assert.False(Key.Owns(DurableObjectId.ForTesting("a")));
    }
}
