using SourceGenDO.Server.Storage;
using SourceGenDO.Server.Storage.InMemory;
using static SourceGenDO.Server.Tests.Storage.Batches;

namespace SourceGenDO.Server.Tests.Storage;

/// <summary>The conformance suite against <see cref="InMemoryStorageBackend"/>, and its test hook.</summary>
public sealed class InMemoryStorageBackendTests : StorageBackendConformance
{
    private readonly InMemoryStorageBackend _memory = new();

    protected override IStorageBackend CreateBackend() => _memory;

    [Fact]
    public async Task AHeldCommitAppliesNothingUntilReleasedWhileReadsSeeTheStateBeforeIt()
    {
        var a = Address("a");
        await _memory.CommitAsync([Write(a, ("k", "old"))], CancellationToken.None);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _memory.BeforeCommit = async (_, _) =>
        {
            entered.SetResult();
            await release.Task;
        };

        var commit = _memory.CommitAsync([Write(a, ("k", "new"))], CancellationToken.None).AsTask();
        await entered.Task;

        Assert.False(commit.IsCompleted);
        Assert.Equal("old", Text((await _memory.GetAsync(a, ["k"], CancellationToken.None))[0]));
        release.SetResult();
        await commit;
        Assert.Equal("new", Text((await _memory.GetAsync(a, ["k"], CancellationToken.None))[0]));
        Assert.Equal(2, _memory.Commits);
    }

    [Fact]
    public async Task ACommitFailedByTheHookThrowsItsExceptionAndAppliesNothing()
    {
        var a = Address("a");
        var failure = new IOException("disk gone");
        _memory.BeforeCommit = (_, _) => throw failure;

        var thrown = await Assert.ThrowsAsync<IOException>(async () =>
            await _memory.CommitAsync([Write(a, ("k", "v")), Alarm(a, DateTimeOffset.UnixEpoch)], CancellationToken.None));

        Assert.Same(failure, thrown);
        Assert.Null((await _memory.GetAsync(a, ["k"], CancellationToken.None))[0]);
        Assert.Null(await _memory.GetAlarmAsync(a, CancellationToken.None));
        Assert.Equal(0, _memory.Commits);
    }

    [Fact]
    public async Task StoredValuesShareNoArrayWithTheCaller()
    {
        var a = Address("a");
        var batch = Write(a, ("k", "v"));
        await _memory.CommitAsync([batch], CancellationToken.None);
        batch.Writes["k"]![0] = (byte)'X';
        var read = (await _memory.GetAsync(a, ["k"], CancellationToken.None))[0]!;
        read[0] = (byte)'Y';

        Assert.Equal("v", Text((await _memory.GetAsync(a, ["k"], CancellationToken.None))[0]));
    }
}
