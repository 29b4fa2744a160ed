using SourceGenDO.Diagnostics;
using SourceGenDO.Dispatch;
using SourceGenDO.Pooling;
using SourceGenDO.Serialization;
using SourceGenDO.Server.Execution;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Rpc;

/// <summary>
/// One call on its way through an object: started on the object's scheduler in channel order, answered
/// on the stream it came from when the object's task finishes. Instances are reused: once answered, a
/// call goes back to a cache for the next one.
/// </summary>
internal sealed class IncomingCall
{
    public static readonly SendOrPostCallback Start = static state => ((IncomingCall)state!).Run();

    private ServerStream _stream = null!;
    private ObjectActivation _activation = null!;
    private IncomingCallData _call;
    private CancellationToken _cancellation;
    private int _hold;
    // Set when the call is answered on a later turn than its first, whose hold is released by then.
    private bool _answersLater;
    // Set when the first turn found the input gate closed by the constructor and waited for it to open.
    private bool _waitedForGate;
    // The answer while the output gate holds it.
    private ReadOnlyMemory<byte> _heldValue;
    private Error? _heldError;
    private Task? _durable;
    // The fetch this call carries (method FetchWire.Method), or null for an ordinary call.
    private ServerFetch? _fetch;
    // The call's span and timing: default, costing nothing, unless a listener wants them.
    private ServerCallTelemetry _telemetry;

    private IncomingCall()
    {
    }

    /// <summary>
    /// Takes a cached instance for <paramref name="call"/>; <paramref name="hold"/> is the generation of the
    /// call's hold on the stream's writes, released when its first turn ends.
    /// </summary>
    public static IncomingCall Rent(
        ServerStream stream, ObjectActivation activation, in IncomingCallData call, CancellationToken cancellation, int hold, ServerFetch? fetch)
    {
        var incoming = ObjectCache<IncomingCall>.Take() ?? new IncomingCall();
        incoming._fetch = fetch;
        incoming._stream = stream;
        incoming._activation = activation;
        incoming._call = call;
        incoming._cancellation = cancellation;
        incoming._hold = hold;
        incoming._telemetry = ServerCallTelemetry.Start(activation.Namespace, activation.Id, call);
        return incoming;
    }

    private void Run()
    {
        // The object's code of this turn runs under the call's span (none unless someone listens).
        using var span = _telemetry.Enter();
        if (_waitedForGate)
        {
            // The hold was released when the first try ended.
            RunFirstTurn();
            return;
        }
        // Answering may recycle this instance: what the release needs is read first.
        var stream = _stream;
        var hold = _hold;
        try
        {
            RunFirstTurn();
        }
        finally
        {
            stream.ReleaseHold(hold);
        }
    }

    private void RunFirstTurn()
    {
        if (_activation.ResetError is { } reset)
        {
            Finish(reset);
            return;
        }
        ValueTask<ReadOnlyMemory<byte>> pending;
        try
        {
            var instance = _activation.GetOrCreateInstance();
            if (_activation.Scheduler.IsInputGateClosed)
            {
                // The constructor called BlockConcurrencyWhile: the call starts once that has finished,
                // still ahead of every event that arrived after it.
                _waitedForGate = true;
                _answersLater = true;
                _activation.Scheduler.HoldFirst(Start, this);
                return;
            }
            // A fetch is handled here, ahead of the generated dispatcher: its method name is no C# method's.
            pending = _fetch is null
                ? _activation.Dispatcher.InvokeAsync(instance, _call.Method, _call.Args, _cancellation)
                : _fetch.InvokeAsync(instance, _cancellation);
        }
        catch (Exception e)
        {
            Finish(ErrorFor(e, _call.Method));
            return;
        }
        if (pending.IsCompleted)
        {
            Finish(pending);
        }
        else
        {
            _ = AwaitAndFinish(pending);
        }
    }

    private async Task AwaitAndFinish(ValueTask<ReadOnlyMemory<byte>> pending)
    {
        // Resumes on the object's scheduler, which is current here, so answering stays in its order. The
        // ValueTask is read exactly once: it may be backed by a pooled source. The answer comes on a later
        // turn, after the first one released the call's hold.
        _answersLater = true;
        ReadOnlyMemory<byte> value;
        try
        {
            value = await pending;
        }
        catch (Exception e)
        {
            Finish(ErrorOfObjectCode(e));
            return;
        }
        Finish(value);
    }

    // A fetch the runtime refused after its handler ran carries the runtime's own error.
    private static Error ErrorOfObjectCode(Exception exception) =>
        exception is FetchRefusedException refused ? refused.Error : RemoteErrors.FromObjectCode(exception);

    private void Finish(ValueTask<ReadOnlyMemory<byte>> completed)
    {
        ReadOnlyMemory<byte> value;
        try
        {
            value = completed.Result;
        }
        catch (Exception e)
        {
            Finish(ErrorOfObjectCode(e));
            return;
        }
        Finish(value);
    }

    private void Finish(ReadOnlyMemory<byte> value)
    {
        if (value.Length > PayloadLimits.MaxPayloadBytes)
        {
            Finish(RemoteErrors.FromRuntime($"The serialized result of {ClientText.Quote(_call.Method)} is {PayloadLimits.Describe(value.Length)}."));
            return;
        }
        Answer(value, null);
    }

    // An error's text is cut to its bound here, where it is made: a queued result must not keep an
    // exception's 40 MB message alive, and no frame may grow past its limit for it.
    private void Finish(Error error) => Answer(default, PayloadLimits.FitError(error));

    private void Answer(ReadOnlyMemory<byte> value, Error? error)
    {
        if (_activation.ResetError is { } reset)
        {
            // A reset instance releases nothing: whatever the event produced, its caller gets the reset.
            value = default;
            error = reset;
        }
        else if (_activation.Scheduler.PendingWrites is { IsCompletedSuccessfully: false } pending)
        {
            // The output gate: the answer leaves once every write made before it is durable.
            if (pending.IsCompleted)
            {
                value = default;
                error = ResetErrorOf(pending);
            }
            else
            {
                _heldValue = value;
                _heldError = error;
                _answersLater = true;
                // Released on the instance's scheduler: events exit one at a time there (see ObjectActivation.Exit).
                pending.ContinueWith(
                    static (task, state) =>
                    {
                        var call = (IncomingCall)state!;
                        call._durable = task;
                        call._activation.Scheduler.Post(ReleaseHeldOnScheduler, call);
                    },
                    this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return;
            }
        }
        Send(value, error);
    }

    private static readonly SendOrPostCallback ReleaseHeldOnScheduler = static state =>
    {
        var call = (IncomingCall)state!;
        var durable = call._durable!;
        call._durable = null;
        call.ReleaseHeld(durable);
    };

    private void ReleaseHeld(Task durable)
    {
        var value = _heldValue;
        var error = _heldError;
        _heldValue = default;
        _heldError = null;
        if (!durable.IsCompletedSuccessfully)
        {
            value = default;
            error = _activation.ResetError ?? ResetErrorOf(durable);
        }
        Send(value, error);
    }

    private static Error ResetErrorOf(Task failed) =>
        RemoteErrors.FromRuntime(failed.Exception?.GetBaseException().Message ?? "A write of the durable object failed.", reset: true);

    private void Send(ReadOnlyMemory<byte> value, Error? error)
    {
        var stream = _stream;
        var activation = _activation;
        var call = _call;
        var holdsNothing = _answersLater;
        var fetch = _fetch;
        var telemetry = _telemetry;
        _telemetry = default;
        // Nothing below touches this instance: the next call may take it at once.
        _fetch = null;
        _stream = null!;
        _activation = null!;
        _call = default;
        _cancellation = default;
        _hold = 0;
        _answersLater = false;
        _waitedForGate = false;
        ObjectCache<IncomingCall>.Return(this);
        // The event ends before its answer leaves: a caller holding the result finds the event counted out
        // (and the idle time stamped) already.
        activation.Exit();
        telemetry.End(activation.Namespace, call.Method, error);
        stream.Complete(call.CallId, call.Cancellable, value, error, call.Args.Length, holdsNothing);
        // A streamed response body follows its head.
        fetch?.OnAnswered(delivered: error is null);
    }

    private static Error ErrorFor(Exception exception, string method) => exception switch
    {
        UnknownMethodException unknown => RemoteErrors.FromRuntime(unknown.Message),
        WireFormatException malformed => RemoteErrors.FromRuntime($"The arguments of {ClientText.Quote(method)} could not be decoded: {malformed.Message}"),
        _ => RemoteErrors.FromObjectCode(exception),
    };
}
