using SourceGenDO.Pooling;

namespace SourceGenDO;

/// <summary>
/// A call of a stub that waits to be sent: made while its caller's output gate was closed (the calling
/// object's writes not yet durable), or made after such a call, which it must not overtake. The stub's
/// channel keeps these in call order and sends them once their gates open.
/// </summary>
internal abstract class HeldCall
{
    protected HeldCall(StubChannel channel, string method, ReadOnlyMemory<byte> args, Task? gate, ClientStream reservedOn, CancellationToken cancellationToken)
    {
        Channel = channel;
        Method = method;
        Args = args;
        Gate = gate;
        ReservedOn = reservedOn;
        CancellationToken = cancellationToken;
    }

    /// <summary>The channel of the stub the call was made through.</summary>
    public StubChannel Channel { get; }

    public string Method { get; }

    /// <summary>A <see cref="PooledBytes"/> copy of the arguments; the stream gives it back once sent.</summary>
    public ReadOnlyMemory<byte> Args { get; }

    /// <summary>
    /// The writes the call waits for (<see cref="IOutputGate.PendingWrites"/> when it was made); null for
    /// a call made with nothing pending, which waits only for the held calls before it.
    /// </summary>
    public Task? Gate { get; }

    /// <summary>The stream whose bound of queued calls counts the call while it is held (<see cref="ClientStream.TryReserve"/>).</summary>
    public ClientStream ReservedOn { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>The bodies of the call when it is a fetch; null for every other call.</summary>
    public ClientFetch? Fetch { get; init; }

    /// <summary>Lets the token fail the call while it is held; disposed when the call leaves the queue.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    // The links of the stub's queue of held calls, through the calls themselves, so that a cancelled
    // call leaves from anywhere in it. Guarded by the stub's lock.
    public HeldCall? Previous { get; set; }

    public HeldCall? Next { get; set; }

    /// <summary>True while the call is in its stub's queue: neither taken to be sent nor cancelled.</summary>
    public bool IsQueued { get; set; }

    /// <summary>Sends the call on its stub's channel, as if it were made now.</summary>
    public abstract void Send();

    /// <summary>Fails the call unsent, giving back its copy of the arguments and its place in the bound.</summary>
    public void Fail(Exception exception)
    {
        PooledBytes.Return(Args);
        ReservedOn.Unreserve();
        FailCaller(exception);
    }

    protected abstract void FailCaller(Exception exception);
}

/// <summary>A held call whose caller awaits <see cref="Pending"/>, rented unbound (<see cref="PendingCall{T}.RentUnbound"/>).</summary>
internal sealed class HeldCall<T>(
    StubChannel channel, string method, ReadOnlyMemory<byte> args, Task? gate, ClientStream reservedOn, CancellationToken cancellationToken, PendingCall<T> pending)
    : HeldCall(channel, method, args, gate, reservedOn, cancellationToken)
{
    public PendingCall<T> Pending { get; } = pending;

    public override void Send() => Channel.SendHeld(this);

    protected override void FailCaller(Exception exception) => Pending.Fail(exception);
}
