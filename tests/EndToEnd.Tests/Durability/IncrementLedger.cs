namespace SourceGenDO.EndToEnd.Tests.Durability;

/// <summary>
/// What clients sent to one counter and what it acknowledged, across every crash of the test: the
/// largest acknowledged value is the floor any restarted server must show.
/// </summary>
internal sealed class IncrementLedger(string name)
{
    private readonly Lock _lock = new();
    private readonly HashSet<long> _acknowledged = [];
    private long _issued;
    private long _floor;

    public string Name { get; } = name;

    public long Floor
    {
        get
        {
            lock (_lock)
            {
                return _floor;
            }
        }
    }

    public int Acknowledged
    {
        get
        {
            lock (_lock)
            {
                return _acknowledged.Count;
            }
        }
    }

    /// <summary>Notes an increment by one about to be sent.</summary>
    public void Issue() => Interlocked.Increment(ref _issued);

    /// <summary>
    /// Notes an acknowledged increment. Each increment by one returns a value no other returned, also
    /// across crashes: a value acknowledged twice means a crash lost an acknowledged increment and the
    /// counter counted it again.
    /// </summary>
    public void Acknowledge(long value)
    {
        lock (_lock)
        {
            Assert.True(_acknowledged.Add(value), $"{Name}: the value {value} was acknowledged twice, so an acknowledged increment was lost.");
            _floor = Math.Max(_floor, value);
        }
    }

    /// <summary>Checks the value a restarted server shows: every acknowledged increment is in it, and nothing never sent.</summary>
    public void CheckAfterRestart(long value, string when)
    {
        lock (_lock)
        {
            Assert.True(value >= _floor, $"{Name} {when}: the value is {value}, below the acknowledged {_floor}: {_floor - value} acknowledged increments were lost.");
            var issued = Interlocked.Read(ref _issued);
            Assert.True(value <= issued, $"{Name} {when}: the value is {value}, above the {issued} increments ever sent.");
        }
    }
}
