using SourceGenDO.Server.Storage;
using static SourceGenDO.Server.Tests.Storage.Batches;

namespace SourceGenDO.Server.Tests.Storage;

// What IStorageBackend.ListObjectsAsync must do for the listing API: exactly the objects with keys or
// an alarm, in id order, paged by the last id.
public abstract partial class StorageBackendConformance
{
    [Fact]
    public async Task ListsTheNamespacesObjectsInIdOrderWithTheirNamesAndWhetherTheyHaveKeys()
    {
        await Backend.CommitAsync(
        [
            Write(Address("c"), "carol", ("k", "v")),
            Write(Address("a"), ("k", "v")),
            Alarm(Address("b"), DateTimeOffset.UnixEpoch.AddDays(1), "bob"),
            Write(Address("a", ns: "other"), ("k", "v")),
        ], None);

        var listed = await Backend.ListObjectsAsync("ns", null, 10, None);

        Assert.Equal(
            [new ListedObject(Address("a").Id, null, true), new ListedObject(Address("b").Id, "bob", false), new ListedObject(Address("c").Id, "carol", true)],
            listed);
        Assert.Equal([Address("a", ns: "other").Id], (await Backend.ListObjectsAsync("other", null, 10, None)).Select(o => o.Id));
        Assert.Empty(await Backend.ListObjectsAsync("nothing-here", null, 10, None));
    }

    [Fact]
    public async Task PagesByTheLastIdUpToTheLimit()
    {
        var ids = new[] { "10", "20", "30", "40", "50" }.Select(id => Address(id)).ToArray();
        await Backend.CommitAsync([.. ids.Select(address => Write(address, ("k", "v")))], None);

        var first = await Backend.ListObjectsAsync("ns", null, 2, None);
        var second = await Backend.ListObjectsAsync("ns", first[^1].Id, 2, None);
        var third = await Backend.ListObjectsAsync("ns", second[^1].Id, 2, None);

        Assert.Equal(ids.Select(a => a.Id), first.Concat(second).Concat(third).Select(o => o.Id));
        Assert.Single(third);
        // An id that is not stored is a bound like any other: the listing goes on after it.
        Assert.Equal([ids[2].Id], (await Backend.ListObjectsAsync("ns", Address("25").Id, 1, None)).Select(o => o.Id));
        Assert.Empty(await Backend.ListObjectsAsync("ns", ids[4].Id, 10, None));
    }

    [Fact]
    public async Task AnObjectLeavesWhenItsLastKeyAndAlarmAreGoneOrAfterDeleteAll()
    {
        var a = Address("a");
        var b = Address("b");
        var c = Address("c");
        await Backend.CommitAsync([Write(a, ("k", "v")), Write(b, ("k", "v")), Write(c, ("k", "v")), Alarm(c, DateTimeOffset.UnixEpoch)], None);

        await Backend.CommitAsync([Write(a, ("k", null)), DeleteAll(b), Write(c, ("k", null))], None);

        // c keeps its alarm, so it stays, with no keys left.
        Assert.Equal([new ListedObject(c.Id, null, false)], await Backend.ListObjectsAsync("ns", null, 10, None));
    }

    [Fact]
    public async Task ANameGivenByAnyBatchIsKeptWhenLaterBatchesCarryNone()
    {
        var a = Address("a");
        await Backend.CommitAsync([Write(a, ("k", "v"))], None);
        await Backend.CommitAsync([Write(a, "alice", ("k2", "v"))], None);
        await Backend.CommitAsync([Write(a, ("k3", "v"))], None);

        Assert.Equal([new ListedObject(a.Id, "alice", true)], await Backend.ListObjectsAsync("ns", null, 10, None));
    }
}
