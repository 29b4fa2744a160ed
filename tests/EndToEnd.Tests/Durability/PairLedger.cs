namespace SourceGenDO.EndToEnd.Tests.Durability;

/// <summary>The values clients wrote to one object's pair of keys, and how many of those writes it acknowledged.</summary>
internal sealed class PairLedger(string name)
{
    private readonly Lock _lock = new();
    private readonly HashSet<long> _issued = [];
    private int _acknowledged;

    public string Name { get; } = name;

    public int Acknowledged => Volatile.Read(ref _acknowledged);

    /// <summary>Notes a pair about to be written, both keys set to <paramref name="value"/> (never zero).</summary>
    public void Issue(long value)
    {
        lock (_lock)
        {
            _issued.Add(value);
        }
    }

    public void Acknowledge() => Interlocked.Increment(ref _acknowledged);

    /// <summary>
    /// Checks the pair a restarted server shows: both keys from the same write, a write that was sent,
    /// and not the empty pair once any write was acknowledged.
    /// </summary>
    public void CheckAfterRestart(long left, long right, string when)
    {
        Assert.True(left == right, $"{Name} {when}: left is {left} but right is {right}: a crash split writes made with no await between them.");
        if (left == 0)
        {
            Assert.True(Acknowledged == 0, $"{Name} {when}: the pair is empty although {Acknowledged} writes of it were acknowledged.");
            return;
        }
        lock (_lock)
        {
            Assert.True(_issued.Contains(left), $"{Name} {when}: the pair holds {left}, a value never written to it.");
        }
    }
}
