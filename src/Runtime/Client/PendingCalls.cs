namespace SourceGenDO;

/// <summary>
/// The calls of one stream that wait for their results, by call id. Split into stripes, each a plain
/// dictionary under its own lock: callers sending on many threads and the reader taking a frame's worth
/// of results rarely meet on one lock, and nothing is allocated per call.
/// </summary>
internal sealed class PendingCalls
{
    // Call ids are consecutive, so the low bits spread a burst of calls over every stripe.
    private const int StripeCount = 32;

    private readonly Dictionary<ulong, IPendingCall>[] _stripes;

    public PendingCalls()
    {
        _stripes = new Dictionary<ulong, IPendingCall>[StripeCount];
        for (var i = 0; i < StripeCount; i++)
        {
            _stripes[i] = [];
        }
    }

    public void Add(ulong callId, IPendingCall pending)
    {
        var stripe = StripeOf(callId);
        lock (stripe)
        {
            stripe[callId] = pending;
        }
    }

    public bool TryTake(ulong callId, out IPendingCall pending)
    {
        var stripe = StripeOf(callId);
        lock (stripe)
        {
            return stripe.Remove(callId, out pending!);
        }
    }

    /// <summary>Takes every pending call that <paramref name="predicate"/> selects.</summary>
    public List<IPendingCall> TakeWhere(Func<IPendingCall, bool> predicate)
    {
        var taken = new List<IPendingCall>();
        foreach (var stripe in _stripes)
        {
            lock (stripe)
            {
                foreach (var (callId, pending) in stripe)
                {
                    if (predicate(pending))
                    {
                        taken.Add(pending);
                        stripe.Remove(callId);
                    }
                }
            }
        }
        return taken;
    }

    private Dictionary<ulong, IPendingCall> StripeOf(ulong callId) => _stripes[(int)(callId % StripeCount)];
}
