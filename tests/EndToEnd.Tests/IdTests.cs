namespace SourceGenDO.EndToEnd.Tests;

/// <summary>Ids and namespaces, SPEC section 2.</summary>
public sealed class IdTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private DurableObjectNamespace<CounterStub> Counters => fixture.Client.GetNamespace<CounterStub>("COUNTERS");

    private DurableObjectNamespace<SecondCounterStub> OtherCounters => fixture.Client.GetNamespace<SecondCounterStub>("OTHER_COUNTERS");

    [Fact]
    public async Task IdFromNameIsDeterministicPerNamespaceAndAcrossClients()
    {
        await using var second = await fixture.Server.ConnectAsync();
        var again = second.GetNamespace<CounterStub>("COUNTERS");
        Assert.Equal(Counters.IdFromName("apples"), Counters.IdFromName("apples"));
        Assert.Equal(Counters.IdFromName("apples"), again.IdFromName("apples"));
        Assert.Equal(Counters.IdFromName("apples").ToString(), again.IdFromName("apples").ToString());
        Assert.NotEqual(Counters.IdFromName("apples"), Counters.IdFromName("pears"));
    }

    [Fact]
    public void TheSameNameInTwoNamespacesGivesTwoIds()
    {
        Assert.NotEqual(Counters.IdFromName("apples"), OtherCounters.IdFromName("apples"));
    }

    [Fact]
    public void IdsPrintAs64LowercaseHexDigitsAndParseBackWithoutName()
    {
        var id = Counters.IdFromName("apples");
        var text = id.ToString();
        Assert.Matches("^[0-9a-f]{64}$", text);
        var parsed = Counters.IdFromString(text);
        Assert.Equal(id, parsed);
        Assert.Equal("apples", id.Name);
        Assert.Null(parsed.Name);
    }

    [Fact]
    public void UniqueIdsNeverRepeatAndHaveNoName()
    {
        var ids = Enumerable.Range(0, 1_000).Select(_ => Counters.NewUniqueId()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Null(id.Name));
        Assert.Equal(ids[0], Counters.IdFromString(ids[0].ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000000")]
    public void IdFromStringRefusesWhatIsNot64HexDigits(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => Counters.IdFromString(text));
        Assert.Equal("Invalid Durable Object ID: must be 64 hex digits", error.Message);
    }

    [Fact]
    public void IdFromStringRefusesIdsOfAnotherNamespaceAndForgedIds()
    {
        var foreign = OtherCounters.IdFromName("apples").ToString();
        var error = Assert.Throws<ArgumentException>(() => Counters.IdFromString(foreign));
        Assert.Equal("Durable Object ID is not valid for this namespace.", error.Message);
        var forged = new string('a', 64);
        error = Assert.Throws<ArgumentException>(() => Counters.IdFromString(forged));
        Assert.Equal("Durable Object ID is not valid for this namespace.", error.Message);
    }

    [Fact]
    public void GetRefusesAnIdOfAnotherNamespace()
    {
        var error = Assert.Throws<ArgumentException>(() => Counters.Get(OtherCounters.IdFromName("apples")));
        Assert.Equal("Durable Object ID is not valid for this namespace.", error.Message);
    }

    [Fact]
    public async Task AnObjectClassDerivedFromAnotherExposesTheInheritedMethods()
    {
        var stub = OtherCounters.GetByName(ServerFixture.UniqueName());
        Assert.Equal(2, await stub.Increment(2));
        Assert.Equal(2, await stub.Get());
    }

    [Fact]
    public void EqualityComparesBytesAndIgnoresName()
    {
        var named = Counters.IdFromName("apples");
        var unnamed = Counters.IdFromString(named.ToString());
        Assert.True(named == unnamed);
        Assert.True(named.Equals(unnamed));
        Assert.Equal(named.GetHashCode(), unnamed.GetHashCode());
        Assert.False(named != unnamed);
        Assert.NotEqual(named, Counters.IdFromName("pears"));
    }

    [Fact]
    public void GetReturnsAStubAtOnceWithTheIdAndName()
    {
        var id = Counters.IdFromName("apples");
        var stub = Counters.Get(id);
        Assert.Equal(id, stub.Id);
        Assert.Equal("apples", stub.Name);
        Assert.Null(Counters.Get(Counters.NewUniqueId()).Name);
        Assert.Null(Counters.Get(Counters.IdFromString(id.ToString())).Name);
    }

    [Fact]
    public async Task TheNameReachesTheObjectAndItsConstructor()
    {
        var name = "name with ünïcode " + Guid.NewGuid();
        var stub = Counters.GetByName(name);
        Assert.Equal(name, await stub.GetName());
        Assert.Equal(name, await stub.GetNameSeenByConstructor());
        Assert.Equal(stub.Id.ToString(), await stub.GetId());
        var byId = Counters.Get(Counters.NewUniqueId());
        Assert.Null(await byId.GetName());
    }

    [Fact]
    public async Task AnIdParsedFromStringReachesTheSameObjectAsTheName()
    {
        var name = ServerFixture.UniqueName();
        await Counters.GetByName(name).Increment(41);
        var parsed = Counters.IdFromString(Counters.IdFromName(name).ToString());
        Assert.Equal(42, await Counters.Get(parsed).Increment(1));
    }

    [Fact]
    public void GetNamespaceRefusesUnknownNamesAndStubsOfAnotherClass()
    {
        var unknown = Assert.Throws<ArgumentException>(() => fixture.Client.GetNamespace<CounterStub>("NOPE"));
        Assert.Contains("NOPE", unknown.Message);
        var wrongClass = Assert.Throws<ArgumentException>(() => fixture.Client.GetNamespace<ThrowerStub>("COUNTERS"));
        Assert.Contains("SourceGenDO.TestObjects.Counter", wrongClass.Message);
    }
}
