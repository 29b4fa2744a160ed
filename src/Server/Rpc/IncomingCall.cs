using SourceGenDO.Dispatch;
using SourceGenDO.Serialization;
using SourceGenDO.Server.Execution;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Rpc;

/// <summary>
/// One call on its way through an object: started on the object's scheduler in channel order, answered
/// on the stream it came from when the object's task finishes.
/// </summary>
internal sealed class IncomingCall
{
    public static readonly SendOrPostCallback Start = static state => ((IncomingCall)state!).Run();

    private readonly ServerStream _stream;
    private readonly ObjectActivation _activation;
    private readonly IncomingCallData _call;
    private readonly CancellationToken _cancellation;

    public IncomingCall(ServerStream stream, ObjectActivation activation, in IncomingCallData call, CancellationToken cancellation)
    {
        _stream = stream;
        _activation = activation;
        _call = call;
        _cancellation = cancellation;
    }

    private void Run()
    {
        ValueTask<ReadOnlyMemory<byte>> pending;
        try
        {
            var instance = _activation.GetOrCreateInstance();
            pending = _activation.Dispatcher.InvokeAsync(instance, _call.Method, _call.Args, _cancellation);
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
        // Resumes on the object's scheduler, which is current here, so answering stays in its order.
        try
        {
            await pending;
        }
        catch
        {
            // Observed through Finish below.
        }
        Finish(pending);
    }

    private void Finish(ValueTask<ReadOnlyMemory<byte>> completed)
    {
        ReadOnlyMemory<byte> value;
        try
        {
            value = completed.Result;
        }
        catch (Exception e)
        {
            Finish(RemoteErrors.FromObjectCode(e));
            return;
        }
        if (value.Length > PayloadLimits.MaxPayloadBytes)
        {
            Finish(RemoteErrors.FromRuntime($"The serialized result of \"{_call.Method}\" is {PayloadLimits.Describe(value.Length)}."));
            return;
        }
        _stream.Complete(_call.CallId, _call.Cancellable, value, null);
        _activation.Exit();
    }

    private void Finish(Error error)
    {
        _stream.Complete(_call.CallId, _call.Cancellable, default, error);
        _activation.Exit();
    }

    private static Error ErrorFor(Exception exception, string method) => exception switch
    {
        UnknownMethodException unknown => RemoteErrors.FromRuntime(unknown.Message),
        WireFormatException malformed => RemoteErrors.FromRuntime($"The arguments of \"{method}\" could not be decoded: {malformed.Message}"),
        _ => RemoteErrors.FromObjectCode(exception),
    };
}
