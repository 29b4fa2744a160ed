using System.Text;
using SourceGenDO.Server.Storage;
using static SourceGenDO.Server.Tests.Storage.Batches;

namespace SourceGenDO.Server.Tests.Storage;

/// <summary>
/// What every <see cref="IStorageBackend"/> must do, run against each backend by a subclass that says how to
/// make one.
/// </summary>
public abstract partial class StorageBackendConformance : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    // Keys around the places where UTF-8 byte order and UTF-16 order differ: U+E000..U+FFFF sort before
    // characters past U+FFFF in UTF-8 but after them (their surrogates) in UTF-16.
    private static readonly string[] ListKeys =
    [
        "", "a", "aa", "ab", "b", "ba", "bb", "bc", "c", "~", "\u00E9", "\uE000", "\uFFFF", "\uFFFFa",
        "\U00010000", "\U0001F600", "\U0001F600x",
    ];

    private IStorageBackend? _backend;

    protected IStorageBackend Backend => _backend ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>A new, empty backend, not yet opened.</summary>
    protected abstract IStorageBackend CreateBackend();

    public async Task InitializeAsync()
    {
        _backend = CreateBackend();
        await _backend.OpenAsync(None);
    }

    public virtual async Task DisposeAsync()
    {
        if (_backend is not null)
        {
            await _backend.DisposeAsync();
        }
    }

    [Fact]
    public async Task GetReturnsEachKeysValueInTheKeysOrderAndNullForMissingOnes()
    {
        var a = Address("a");
        await Backend.CommitAsync([Write(a, ("x", "1"), ("y", "2"))], None);

        var values = await Backend.GetAsync(a, ["y", "missing", "x"], None);

        Assert.Equal(["2", null, "1"], values.Select(Text));
        Assert.Equal([null], (await Backend.GetAsync(Address("never-written"), ["x"], None)).Select(Text));
    }

    [Fact]
    public async Task AnEmptyValueAndAnEmptyKeyAreStoredAndAreNotMissing()
    {
        // A value encoding a default (0, "", false) is an empty message: zero bytes, which must stay a value.
        var a = Address("a");
        await Backend.CommitAsync([Write(a, ("", "v"), ("empty", ""))], None);

        var values = await Backend.GetAsync(a, ["", "empty"], None);

        Assert.Equal("v", Text(values[0]));
        Assert.NotNull(values[1]);
        Assert.Empty(values[1]!);
        Assert.Equal(["", "empty"], (await Backend.ListAsync(a, new ListOptions(), None)).Select(e => e.Key));
    }

    [Fact]
    public async Task APutReplacesTheValueAndADeleteRemovesOnlyItsKey()
    {
        var a = Address("a");
        await Backend.CommitAsync([Write(a, ("x", "1"), ("y", "2"))], None);
        await Backend.CommitAsync([Write(a, ("x", "3"), ("y", null))], None);

        Assert.Equal(["3", null], (await Backend.GetAsync(a, ["x", "y"], None)).Select(Text));
    }

    [Fact]
    public async Task ObjectsAreSeparateByIdAndByNamespace()
    {
        var a = Address("a");
        var sameIdOtherNamespace = Address("a", "other");
        var b = Address("b");
        await Backend.CommitAsync([Write(a, ("k", "a")), Write(sameIdOtherNamespace, ("k", "other")), Write(b, ("k", "b"))], None);
        await Backend.CommitAsync([Write(a, ("k", null))], None);

        Assert.Null((await Backend.GetAsync(a, ["k"], None))[0]);
        Assert.Equal("other", Text((await Backend.GetAsync(sameIdOtherNamespace, ["k"], None))[0]));
        Assert.Equal("b", Text((await Backend.GetAsync(b, ["k"], None))[0]));
    }

    [Fact]
    public async Task DeleteAllRemovesEveryKeyAndTheAlarmOfThatObjectOnly()
    {
        var a = Address("a");
        var b = Address("b");
        var time = DateTimeOffset.UnixEpoch.AddHours(1);
        await Backend.CommitAsync([Write(a, ("x", "1"), ("y", "2")), Alarm(a, time), Write(b, ("x", "b")), Alarm(b, time)], None);

        await Backend.CommitAsync([DeleteAll(a)], None);

        Assert.Equal([null, null], (await Backend.GetAsync(a, ["x", "y"], None)).Select(Text));
        Assert.Empty(await Backend.ListAsync(a, new ListOptions(), None));
        Assert.Null(await Backend.GetAlarmAsync(a, None));
        Assert.Equal("b", Text((await Backend.GetAsync(b, ["x"], None))[0]));
        Assert.Equal(time, await Backend.GetAlarmAsync(b, None));
        Assert.Equal([b], (await Backend.GetAlarmsAsync(time, 10, None)).Select(alarm => alarm.Address));
    }

    [Fact]
    public async Task DeleteAllAppliesBeforeTheWritesAndAlarmOfItsOwnBatch()
    {
        var a = Address("a");
        var time = DateTimeOffset.UnixEpoch.AddHours(2);
        await Backend.CommitAsync([Write(a, ("old", "1"), ("kept", "1")), Alarm(a, DateTimeOffset.UnixEpoch)], None);

        var batch = DeleteAll(a, ("kept", "2"), ("new", "2"));
        batch.AlarmChanged = true;
        batch.Alarm = time;
        await Backend.CommitAsync([batch], None);

        Assert.Equal(["kept", "new"], (await Backend.ListAsync(a, new ListOptions(), None)).Select(e => e.Key));
        Assert.Equal("2", Text((await Backend.GetAsync(a, ["kept"], None))[0]));
        Assert.Equal(time, await Backend.GetAlarmAsync(a, None));
    }

    [Fact]
    public async Task ListReturnsKeysInUtf8ByteOrderNotUtf16Order()
    {
        var a = Address("a");
        await Backend.CommitAsync([Write(a, [.. ListKeys.Reverse().Select(key => (key, (string?)key))])], None);

        var listed = (await Backend.ListAsync(a, new ListOptions(), None)).Select(e => e.Key).ToList();

        Assert.Equal(Utf8Sorted(ListKeys), listed);
        // The order that matters, spelled out: a character past U+FFFF sorts after U+E000..U+FFFF.
        Assert.True(listed.IndexOf("\uFFFF") < listed.IndexOf("\U00010000"));
        Assert.True(listed.IndexOf("\uE000") < listed.IndexOf("\U0001F600"));
        Assert.True(string.CompareOrdinal("\U00010000", "\uE000") < 0, "The keys must be ones where UTF-16 order differs.");
        Assert.All(await Backend.ListAsync(a, new ListOptions(), None), e => Assert.Equal(e.Key, Encoding.UTF8.GetString(e.Value)));
    }

    [Fact]
    public async Task ListAppliesEveryOptionAsTheUtf8OrderSays()
    {
        var a = Address("a");
        await Backend.CommitAsync([Write(a, [.. ListKeys.Select(key => (key, (string?)key))])], None);
        // Another object's keys must never show.
        await Backend.CommitAsync([Write(Address("b"), ("b", "b"), ("bb", "bb"))], None);
        ListOptions[] cases =
        [
            new(), new() { Reverse = true }, new() { Limit = 1 }, new() { Limit = 100 }, new() { Reverse = true, Limit = 3 },
            new() { Start = "b" }, new() { StartAfter = "b" }, new() { End = "b" }, new() { Start = "aa", End = "bb" },
            new() { StartAfter = "a", End = "c", Reverse = true }, new() { Start = "ab", End = "bb", Reverse = true, Limit = 2 },
            new() { Start = "\uE000" }, new() { End = "\U00010000" }, new() { StartAfter = "\uFFFF" }, new() { Start = "zz" },
            new() { Prefix = "" }, new() { Prefix = "b" }, new() { Prefix = "b", Limit = 2 }, new() { Prefix = "b", Reverse = true, Limit = 2 },
            new() { Prefix = "b", Start = "bb" }, new() { Prefix = "b", End = "bc", Reverse = true }, new() { Prefix = "bz" },
            new() { Prefix = "\uFFFF" }, new() { Prefix = "\uFFFF", StartAfter = "\uFFFF" }, new() { Prefix = "\U0001F600", Reverse = true },
            new() { Prefix = "\U0001F600", Reverse = true, Limit = 1 }, new() { Prefix = "a", End = "a" }, new() { Start = "c", End = "b" },
        ];

        foreach (var options in cases)
        {
            var listed = (await Backend.ListAsync(a, options, None)).Select(e => e.Key);
            Assert.True(Expected(options).SequenceEqual(listed), $"{Describe(options)}: expected [{string.Join(", ", Expected(options))}], listed [{string.Join(", ", listed)}].");
        }

        // A few spelled out, so that the oracle above is not the only judge.
        Assert.Equal(["bc", "bb"], (await Backend.ListAsync(a, new ListOptions { Prefix = "b", Reverse = true, Limit = 2 }, None)).Select(e => e.Key));
        Assert.Equal(["\uFFFF", "\uFFFFa"], (await Backend.ListAsync(a, new ListOptions { Prefix = "\uFFFF" }, None)).Select(e => e.Key));
        Assert.Equal(["\uFFFFa", "\U00010000", "\U0001F600", "\U0001F600x"], (await Backend.ListAsync(a, new ListOptions { StartAfter = "\uFFFF" }, None)).Select(e => e.Key));
    }

    [Fact]
    public async Task TheNameGivenWithABatchIsStoredAndReadWithTheAlarm()
    {
        var named = Address("named");
        var unnamed = Address("unnamed");
        var time = DateTimeOffset.UnixEpoch.AddMinutes(5);
        await Backend.CommitAsync([Write(named, "room-\U0001F600", ("k", "v")), Alarm(unnamed, time)], None);
        // A later batch without the name keeps it.
        await Backend.CommitAsync([Alarm(named, time.AddMinutes(1))], None);

        var alarms = await Backend.GetAlarmsAsync(time.AddHours(1), 10, None);

        Assert.Equal([new StoredAlarm(unnamed, null, time), new StoredAlarm(named, "room-\U0001F600", time.AddMinutes(1))], alarms);
    }

    [Fact]
    public async Task AlarmsAreListedEarliestFirstUpToTheTimeAndTheLimit()
    {
        var t0 = DateTimeOffset.UnixEpoch.AddDays(1);
        var addresses = Enumerable.Range(0, 5).Select(i => Address($"o{i}")).ToArray();
        // Committed out of time order: object i fires at t0 + (4 - i) minutes.
        await Backend.CommitAsync([.. addresses.Select((address, i) => Alarm(address, t0.AddMinutes(4 - i)))], None);

        Assert.Equal(t0, await Backend.GetNextAlarmTimeAsync(None));
        Assert.Equal([addresses[4], addresses[3], addresses[2]], (await Backend.GetAlarmsAsync(t0.AddMinutes(2), 10, None)).Select(alarm => alarm.Address));
        Assert.Equal([addresses[4], addresses[3]], (await Backend.GetAlarmsAsync(t0.AddHours(1), 2, None)).Select(alarm => alarm.Address));
        Assert.Empty(await Backend.GetAlarmsAsync(t0.AddTicks(-1), 10, None));

        // Moving one alarm and deleting another.
        await Backend.CommitAsync([Alarm(addresses[4], t0.AddHours(2)), Alarm(addresses[3], null)], None);

        Assert.Equal(t0.AddMinutes(2), await Backend.GetNextAlarmTimeAsync(None));
        Assert.Equal([addresses[2], addresses[1], addresses[0], addresses[4]], (await Backend.GetAlarmsAsync(t0.AddDays(1), 10, None)).Select(alarm => alarm.Address));
        Assert.Null(await Backend.GetAlarmAsync(addresses[3], None));
        Assert.Equal(t0.AddHours(2), await Backend.GetAlarmAsync(addresses[4], None));
    }

    [Fact]
    public async Task WithNoAlarmSetThereIsNoNextAlarm()
    {
        Assert.Null(await Backend.GetNextAlarmTimeAsync(None));
        await Backend.CommitAsync([Write(Address("a"), ("k", "v"))], None);
        Assert.Null(await Backend.GetNextAlarmTimeAsync(None));
        Assert.Null(await Backend.GetAlarmAsync(Address("a"), None));
        Assert.Empty(await Backend.GetAlarmsAsync(DateTimeOffset.MaxValue, 10, None));
    }

    [Fact]
    public async Task AnAlarmKeepsItsExactInstant()
    {
        var a = Address("a");
        var time = new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)).AddTicks(1234567);
        await Backend.CommitAsync([Alarm(a, time)], None);

        var stored = await Backend.GetAlarmAsync(a, None);

        Assert.Equal(time.UtcTicks, stored!.Value.UtcTicks);
        Assert.Equal(time, (await Backend.GetAlarmsAsync(time, 1, None)).Single().Time);
    }

    [Fact]
    public async Task ACommitWithAnInvalidKeyAppliesNoneOfItsBatches()
    {
        var a = Address("a");
        var b = Address("b");
        await Backend.CommitAsync([Write(a, ("before", "1"))], None);

        var invalid = new ObjectWriteBatch(b, "b-name");
        invalid.Writes["fine"] = Bytes("x");
        invalid.Writes["lone \uD800 surrogate"] = Bytes("x");
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await Backend.CommitAsync([Write(a, ("before", "2"), ("new", "2")), Alarm(a, DateTimeOffset.UnixEpoch), invalid], None));

        Assert.Equal(["1", null], (await Backend.GetAsync(a, ["before", "new"], None)).Select(Text));
        Assert.Null(await Backend.GetAlarmAsync(a, None));
        Assert.Empty(await Backend.ListAsync(b, new ListOptions(), None));
        // And the backend goes on committing.
        await Backend.CommitAsync([Write(b, ("after", "3"))], None);
        Assert.Equal("3", Text((await Backend.GetAsync(b, ["after"], None))[0]));
    }

    [Fact]
    public async Task BatchesOfOneObjectInOneCommitApplyInListOrder()
    {
        var a = Address("a");
        var time = DateTimeOffset.UnixEpoch.AddHours(3);
        await Backend.CommitAsync(
        [
            Write(a, ("k", "1"), ("gone", "1")),
            Write(a, ("k", "2")),
            DeleteAll(a, ("after-delete-all", "3")),
            Write(a, ("k", "4")),
            Alarm(a, time),
            Write(a, ("after-delete-all", null)),
            Alarm(a, time.AddHours(1)),
        ], None);

        Assert.Equal(["k"], (await Backend.ListAsync(a, new ListOptions(), None)).Select(e => e.Key));
        Assert.Equal("4", Text((await Backend.GetAsync(a, ["k"], None))[0]));
        Assert.Equal(time.AddHours(1), await Backend.GetAlarmAsync(a, None));
    }

    [Fact]
    public async Task OneCommitAppliesTheBatchesOfManyObjects()
    {
        var addresses = Enumerable.Range(0, 300).Select(i => Address($"many{i}")).ToArray();

        await Backend.CommitAsync([.. addresses.Select((address, i) => Write(address, ("v", i.ToString(System.Globalization.CultureInfo.InvariantCulture))))], None);

        for (var i = 0; i < addresses.Length; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), Text((await Backend.GetAsync(addresses[i], ["v"], None))[0]));
        }
    }

    [Fact]
    public async Task AnEmptyBatchChangesNothingAndAnObjectWithNothingLeftHasNoAlarm()
    {
        var a = Address("a");
        await Backend.CommitAsync([new ObjectWriteBatch(a, "name")], None);
        Assert.Empty(await Backend.GetAlarmsAsync(DateTimeOffset.MaxValue, 10, None));

        await Backend.CommitAsync([Write(a, "name", ("k", "v")), Alarm(a, DateTimeOffset.UnixEpoch)], None);
        await Backend.CommitAsync([Write(a, ("k", null)), Alarm(a, null)], None);

        Assert.Empty(await Backend.ListAsync(a, new ListOptions(), None));
        Assert.Null(await Backend.GetAlarmAsync(a, None));
        Assert.Null(await Backend.GetNextAlarmTimeAsync(None));
    }

    [Fact]
    public async Task AnObjectLeftWithNoKeysAndNoAlarmIsForgottenWithItsName()
    {
        var a = Address("a");
        var time = DateTimeOffset.UnixEpoch.AddHours(4);
        await Backend.CommitAsync([Write(a, "kept-while-data", ("k", "v")), Alarm(a, time)], None);
        Assert.Equal("kept-while-data", (await Backend.GetAlarmsAsync(time, 1, None)).Single().Name);

        await Backend.CommitAsync([DeleteAll(a)], None);
        await Backend.CommitAsync([Alarm(a, time)], None);

        Assert.Null((await Backend.GetAlarmsAsync(time, 1, None)).Single().Name);
    }

    private static List<string> Utf8Sorted(IEnumerable<string> keys) =>
        [.. keys.OrderBy(Encoding.UTF8.GetBytes, Comparer<byte[]>.Create(static (x, y) => x.AsSpan().SequenceCompareTo(y)))];

    // An oracle written from the API's definition, on UTF-8 bytes, independent of both backends.
    private static IEnumerable<string> Expected(ListOptions options)
    {
        static int Compare(string x, string y) => Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y));
        var selected = Utf8Sorted(ListKeys).Where(key =>
            (options.Start is null || Compare(key, options.Start) >= 0)
            && (options.StartAfter is null || Compare(key, options.StartAfter) > 0)
            && (options.End is null || Compare(key, options.End) < 0)
            && (options.Prefix is null || Encoding.UTF8.GetBytes(key).AsSpan().StartsWith(Encoding.UTF8.GetBytes(options.Prefix))));
        if (options.Reverse)
        {
            selected = selected.Reverse();
        }
        return options.Limit is { } limit ? selected.Take(limit) : selected;
    }

    private static string Describe(ListOptions o) =>
        $"Start={o.Start} StartAfter={o.StartAfter} End={o.End} Prefix={o.Prefix} Reverse={o.Reverse} Limit={o.Limit}";
}
