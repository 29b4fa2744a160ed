namespace SourceGenDO.TestObjects;

/// <summary>
/// Records the order calls arrive in, so that a test sees whether a call reached the object, and when;
/// the output gate tests watch it for calls that left their caller too early or out of order.
/// </summary>
public class ArrivalLog(DurableObjectState ctx) : DurableObject(ctx)
{
    private readonly List<int> _arrived = [];

    /// <summary>Records <paramref name="value"/>; returns how many calls have arrived, this one included.</summary>
    public Task<int> Arrive(int value, CancellationToken cancellationToken = default)
    {
        _arrived.Add(value);
        return Task.FromResult(_arrived.Count);
    }

    public Task<List<int>> Arrived() => Task.FromResult(_arrived);
}
