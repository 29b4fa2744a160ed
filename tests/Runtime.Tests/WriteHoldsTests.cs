using SourceGenDO.EndToEnd.Tests;
using SourceGenDO.Transport;

namespace SourceGenDO.Runtime.Tests;

public sealed class WriteHoldsTests
{
    [Fact]
    public void TheLastReleaseOfAGenerationSaysSoAndStartsTheNext()
    {
        var holds = new WriteHolds(() => { });
        var generation = holds.Take(2);
        Assert.False(holds.Release(generation));
        Assert.True(holds.IsHeld);
        Assert.True(holds.Release(generation));
        Assert.False(holds.IsHeld);
        Assert.NotEqual(generation, holds.Take());
    }

    [Fact]
    public void TheLateReleasesOfAnEndedGenerationCountForNothing()
    {
        var holds = new WriteHolds(() => { });
        var ended = holds.Take(2);
        Assert.True(holds.End(ended));
        Assert.False(holds.IsHeld);

        var current = holds.Take();
        Assert.NotEqual(ended, current);
        Assert.False(holds.Release(ended));
        Assert.False(holds.Release(ended));
        Assert.True(holds.IsHeld);
        Assert.True(holds.Release(current));
    }

    [Fact]
    public void OnlyTheCurrentGenerationWithHoldsCanBeEnded()
    {
        var holds = new WriteHolds(() => { });
        var old = holds.Take();
        holds.Release(old);
        Assert.False(holds.End(old));
        var current = holds.Take();
        Assert.False(holds.End(old));
        Assert.True(holds.IsHeld);
        Assert.True(holds.End(current));
    }

    [Fact]
    public void AReleaseWithNothingTakenLeavesNothingHeld()
    {
        var holds = new WriteHolds(() => { });
        var generation = holds.Take(0);
        Assert.False(holds.Release(generation));
        Assert.False(holds.IsHeld);
        Assert.True(holds.Release(holds.Take()));
    }

    [Fact]
    public async Task HoldsTakenForOthersEndWhileOtherHoldsKeepMoving()
    {
        var ended = 0;
        using var holds = new WriteHolds(() => Interlocked.Increment(ref ended));
        holds.TakeForOthers(1);
        // A holder that never comes back, while others keep joining it (and releasing some): its
        // generation must end by its age, however busy the others are.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        // On a thread of its own that gives way after every step, so that the checks get their turns.
        await Task.Factory.StartNew(() =>
        {
            while (Volatile.Read(ref ended) == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "The blocked holder's generation never ended.");
                holds.TakeForOthers(2);
                holds.Release(holds.TakeForOthers(1));
                Thread.Sleep(0);
            }
        }, TaskCreationOptions.LongRunning);
        await Eventually.True(() => !holds.IsHeld, "nothing is held");
    }

    [Fact]
    public async Task ALoneHoldForOthersIsLeftToItsHolderUntilSomeoneElseIsHeldBehindIt()
    {
        var ended = 0;
        using var holds = new WriteHolds(() => Interlocked.Increment(ref ended));
        holds.TakeForOthers(1);
        await Task.Delay(50);
        Assert.Equal(0, Volatile.Read(ref ended));
        Assert.True(holds.IsHeld);

        // An item of someone who holds nothing now waits behind it: the check takes over.
        holds.WatchHeld();
        await Eventually.True(() => Volatile.Read(ref ended) == 1, "the lone hold ends");
        Assert.False(holds.IsHeld);
    }
}
