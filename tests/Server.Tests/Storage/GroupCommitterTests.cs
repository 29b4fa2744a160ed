using System.Globalization;
using Microsoft.Extensions.Logging;
using SourceGenDO.Server.Storage;
using SourceGenDO.Server.Storage.Sqlite;
using static SourceGenDO.Server.Tests.Storage.Batches;

namespace SourceGenDO.Server.Tests.Storage;

public sealed class GroupCommitterTests
{
    private readonly RecordingBackend _backend = new();
    private readonly CapturedLogs _logs = new();

    [Fact]
    public async Task ManyObjectsBatchesQueuedTogetherBecomeOneBackendCommit()
    {
        var committer = Create();
        var hold = _backend.HoldNext();
        var first = committer.CommitAsync(Write(Address("first"), ("k", "v")));
        await hold.Entered;

        // While the first commit is on its way to disk, 1,000 objects write from several threads at once.
        var tasks = new Task[1000];
        Parallel.For(0, tasks.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            tasks[i] = committer.CommitAsync(Write(Address($"o{i}"), ("k", N(i)))));
        hold.Release();
        await Task.WhenAll([first, .. tasks]);

        Assert.Equal(2, _backend.Memory.Commits);
        Assert.Equal(1000, _backend.Commits[1].Length);
        for (var i = 0; i < tasks.Length; i++)
        {
            Assert.Equal(N(i), Text((await _backend.Memory.GetAsync(Address($"o{i}"), ["k"], CancellationToken.None))[0]));
        }
    }

    [Fact]
    public async Task BatchesAreCommittedInTheOrderQueuedAndNoneIsDurableBeforeAnEarlierOne()
    {
        var committer = Create(new GroupCommitLimits { MaxBatchesPerCommit = 7 });
        var a = Address("a");
        var hold = _backend.HoldNext();
        var batches = Enumerable.Range(0, 50).Select(i => Write(a, ("k", N(i)), ($"seq{N(i)}", N(i)))).ToArray();
        var tasks = new Task[batches.Length];
        var outOfOrder = 0;
        for (var i = 0; i < batches.Length; i++)
        {
            tasks[i] = committer.CommitAsync(batches[i]);
            var earlier = tasks[..i];
            _ = tasks[i].ContinueWith(_ =>
            {
                if (!earlier.All(t => t.IsCompletedSuccessfully))
                {
                    Interlocked.Increment(ref outOfOrder);
                }
            }, TaskContinuationOptions.ExecuteSynchronously);
            if (i == 0)
            {
                await hold.Entered;
            }
        }
        hold.Release();
        await Task.WhenAll(tasks);

        Assert.Equal(batches, _backend.Commits.SelectMany(commit => commit));
        Assert.All(_backend.Commits, commit => Assert.True(commit.Length <= 7));
        Assert.Equal(0, outOfOrder);
        Assert.Equal(N(49), Text((await _backend.Memory.GetAsync(a, ["k"], CancellationToken.None))[0]));
    }

    [Fact]
    public async Task AFailedCommitFaultsEveryBatchInItWithTheBackendsErrorAndLaterCommitsSucceed()
    {
        var committer = Create();
        var hold = _backend.HoldNext();
        var failure = new IOException("The disk is full.");
        _backend.FailNext(failure);
        var first = committer.CommitAsync(Write(Address("first"), ("k", "v")));
        await hold.Entered;
        var failed = Enumerable.Range(0, 5).Select(i => committer.CommitAsync(Write(Address($"o{i}"), ("k", "v")))).ToArray();
        hold.Release();

        await first;
        foreach (var task in failed)
        {
            Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => task));
        }
        await committer.CommitAsync(Write(Address("later"), ("k", "v")));

        Assert.Equal(3, _backend.Commits.Count);
        Assert.Equal(5, _backend.Commits[1].Length);
        Assert.Null((await _backend.Memory.GetAsync(Address("o0"), ["k"], CancellationToken.None))[0]);
        Assert.Equal("v", Text((await _backend.Memory.GetAsync(Address("later"), ["k"], CancellationToken.None))[0]));
        var logged = Assert.Single(_logs.Entries, entry => entry.Level == LogLevel.Error);
        Assert.Same(failure, logged.Exception);
        Assert.Contains("5", logged.Message);
    }

    [Fact]
    public async Task BatchesOfAnObjectQueuedBehindItsFailedBatchFailWithIt()
    {
        var committer = Create(new GroupCommitLimits { MaxBatchesPerCommit = 1 });
        var hold = _backend.HoldNext();
        var failure = new IOException("I/O error");
        _backend.FailNext(failure);
        var first = committer.CommitAsync(Write(Address("first"), ("k", "v")));
        await hold.Entered;
        var a1 = committer.CommitAsync(Write(Address("a"), ("k", "1")));
        var a2 = committer.CommitAsync(Write(Address("a"), ("j", "2")));
        var b = committer.CommitAsync(Write(Address("b"), ("k", "b")));
        hold.Release();

        await first;
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => a1));
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => a2));
        await b;
        Assert.Empty(await _backend.Memory.ListAsync(Address("a"), new ListOptions(), CancellationToken.None));
        Assert.DoesNotContain(_backend.Commits, commit => commit.Any(batch => batch.Writes.ContainsKey("j")));
    }

    [Fact]
    public async Task StopAsyncCommitsEverythingQueuedThenRefusesNewBatches()
    {
        var committer = Create();
        var hold = _backend.HoldNext();
        var queued = new List<Task> { committer.CommitAsync(Write(Address("first"), ("k", "v"))) };
        await hold.Entered;
        queued.AddRange(Enumerable.Range(0, 3).Select(i => committer.CommitAsync(Write(Address($"o{i}"), ("k", "v")))));

        var stopped = committer.StopAsync();
        var refused = committer.CommitAsync(Write(Address("late"), ("k", "v")));

        Assert.False(stopped.IsCompleted);
        Assert.True(refused.IsFaulted);
        var error = await Assert.ThrowsAsync<DurableObjectException>(() => refused);
        Assert.Equal("Durable Object storage is no longer accessible.", error.Message);
        hold.Release();
        await stopped;
        await Task.WhenAll(queued);
        Assert.Equal(4, _backend.Commits.Sum(commit => commit.Length));
        Assert.Null((await _backend.Memory.GetAsync(Address("late"), ["k"], CancellationToken.None))[0]);
        var later = committer.CommitAsync(Write(Address("later"), ("k", "v")));
        Assert.True(later.IsFaulted);
        Assert.Equal("Durable Object storage is no longer accessible.", (await Assert.ThrowsAsync<DurableObjectException>(() => later)).Message);
    }

    [Fact]
    public async Task ABatchPastTheQueuedBatchesBoundFailsAtOnceAsOverloaded()
    {
        var committer = Create(new GroupCommitLimits { MaxQueuedBatches = 3 });
        var hold = _backend.HoldNext();
        var accepted = new List<Task> { committer.CommitAsync(Write(Address("first"), ("k", "v"))) };
        await hold.Entered;
        accepted.AddRange(Enumerable.Range(0, 3).Select(i => committer.CommitAsync(Write(Address($"o{i}"), ("k", "v")))));

        var overloaded = committer.CommitAsync(Write(Address("one-too-many"), ("k", "v")));

        Assert.True(overloaded.IsFaulted);
        var error = await Assert.ThrowsAsync<DurableObjectException>(() => overloaded);
        Assert.True(error.Overloaded);
        Assert.Contains("overloaded", error.Message);
        hold.Release();
        await Task.WhenAll(accepted);
        await committer.CommitAsync(Write(Address("after-the-backlog"), ("k", "v")));
    }

    [Fact]
    public async Task ABatchPastTheQueuedBytesBoundFailsAsOverloadedUnlessNothingWaits()
    {
        var committer = Create(new GroupCommitLimits { MaxQueuedBytes = 100 });
        var hold = _backend.HoldNext();
        // Taken although it is larger than the bound: nothing waits yet.
        var first = committer.CommitAsync(Sized("huge", 1_000));
        await hold.Entered;
        var alone = committer.CommitAsync(Sized("big", 500));
        Assert.True((await Assert.ThrowsAsync<DurableObjectException>(() => committer.CommitAsync(Sized("small", 1)))).Overloaded);
        hold.Release();
        await Task.WhenAll(first, alone);

        var hold2 = _backend.HoldNext();
        var blocker = committer.CommitAsync(Sized("blocker", 1));
        await hold2.Entered;
        var sixty = committer.CommitAsync(Sized("sixty", 60));
        var tooMuch = committer.CommitAsync(Sized("sixty-more", 60));
        var thirty = committer.CommitAsync(Sized("thirty", 30));
        hold2.Release();

        Assert.True((await Assert.ThrowsAsync<DurableObjectException>(() => tooMuch)).Overloaded);
        await Task.WhenAll(blocker, sixty, thirty);
    }

    [Fact]
    public async Task OneCommitTakesAtMostTheBatchLimitAndTheByteLimit()
    {
        var byCount = new RecordingBackend();
        var committer = new GroupCommitter(byCount.Memory, _logs.CreateLogger("test"), new GroupCommitLimits { MaxBatchesPerCommit = 10 });
        var hold = byCount.HoldNext();
        var tasks = new List<Task> { committer.CommitAsync(Write(Address("first"), ("k", "v"))) };
        await hold.Entered;
        tasks.AddRange(Enumerable.Range(0, 25).Select(i => committer.CommitAsync(Write(Address($"o{i}"), ("k", "v")))));
        hold.Release();
        await Task.WhenAll(tasks);
        Assert.Equal([1, 10, 10, 5], byCount.Commits.Select(commit => commit.Length));

        var bySize = new RecordingBackend();
        committer = new GroupCommitter(bySize.Memory, _logs.CreateLogger("test"), new GroupCommitLimits { MaxBytesPerCommit = 250 });
        hold = bySize.HoldNext();
        tasks = [committer.CommitAsync(Sized("first", 1))];
        await hold.Entered;
        tasks.AddRange(Enumerable.Range(0, 5).Select(i => committer.CommitAsync(Sized($"o{i}", 100))));
        tasks.Add(committer.CommitAsync(Sized("larger-than-a-commit", 1_000)));
        tasks.Add(committer.CommitAsync(Sized("last", 100)));
        hold.Release();
        await Task.WhenAll(tasks);
        Assert.Equal([1, 2, 2, 1, 1, 1], bySize.Commits.Select(commit => commit.Length));
    }

    [Fact]
    public async Task ABatchWhoseOwnerWasResetBeforeItsCommitIsDroppedAndItsTaskCanceled()
    {
        var committer = Create();
        var hold = _backend.HoldNext();
        var first = committer.CommitAsync(Write(Address("first"), ("k", "v")));
        await hold.Entered;
        var reset = false;
        var dropped = committer.CommitAsync(Write(Address("reset"), ("k", "v")), () => Volatile.Read(ref reset));
        var kept = committer.CommitAsync(Write(Address("kept"), ("k", "v")), () => false);
        Volatile.Write(ref reset, true);
        hold.Release();

        await Task.WhenAll(first, kept);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
        Assert.True(dropped.IsCanceled);
        Assert.Null((await _backend.Memory.GetAsync(Address("reset"), ["k"], CancellationToken.None))[0]);
        Assert.Equal("v", Text((await _backend.Memory.GetAsync(Address("kept"), ["k"], CancellationToken.None))[0]));
    }

    [Fact]
    public async Task AnEmptyBatchCompletesOnlyWhenEverythingQueuedBeforeItIsDurable()
    {
        var committer = Create();
        var hold = _backend.HoldNext();
        var write = committer.CommitAsync(Write(Address("a"), ("k", "v")));
        await hold.Entered;

        var sync = committer.CommitAsync(new ObjectWriteBatch(Address("a"), null));

        Assert.False(sync.IsCompleted);
        hold.Release();
        await sync;
        Assert.True(write.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task EveryBatchCompletedOverSqliteIsThereAfterReopening()
    {
        using var directory = new TempDirectory();
        var options = new SqliteStorageOptions { DataDirectory = directory.Path };
        var addresses = Enumerable.Range(0, 200).Select(i => Address($"o{i}")).ToArray();
        await using (var sqlite = new SqliteStorageBackend(options))
        {
            await sqlite.OpenAsync(CancellationToken.None);
            var committer = new GroupCommitter(sqlite, _logs.CreateLogger("test"));
            // Each object writes three batches in turn while the others write theirs.
            await Task.WhenAll(addresses.Select(async (address, i) =>
            {
                for (var round = 0; round < 3; round++)
                {
                    await committer.CommitAsync(Write(address, "name-" + N(i), ("round", N(round)), ($"r{round}", "x")));
                }
            }));
            await committer.StopAsync();
        }

        await using var reopened = new SqliteStorageBackend(options);
        await reopened.OpenAsync(CancellationToken.None);
        foreach (var address in addresses)
        {
            Assert.Equal(["002", "x", "x", "x"], (await reopened.GetAsync(address, ["round", "r0", "r1", "r2"], CancellationToken.None)).Select(Text));
        }
    }

    private GroupCommitter Create(GroupCommitLimits? limits = null) => new(_backend.Memory, _logs.CreateLogger("test"), limits);

    private static ObjectWriteBatch Sized(string id, long bytes)
    {
        var batch = Write(Address(id), ("k", "v"));
        batch.Bytes = bytes;
        return batch;
    }

    private static string N(int i) => i.ToString("D3", CultureInfo.InvariantCulture);
}
