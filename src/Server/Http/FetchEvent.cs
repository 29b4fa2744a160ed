using System.Diagnostics;
using SourceGenDO.Diagnostics;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Server.Http;

/// <summary>
/// One run of an object's <c>Fetch</c> handler for a request that came through a route, delivered as an
/// event like a call (it waits at the input gate and counts toward the object's queue bound). Its response
/// is released by the output gate: once the writes made before it are durable; if one failed, the event
/// fails with the reset instead.
/// </summary>
internal sealed class FetchEvent
{
    public static readonly SendOrPostCallback Start = static state => _ = ((FetchEvent)state!).RunAsync();

    private readonly ObjectActivation _activation;
    private readonly HttpRequestMessage _request;
    private readonly Activity? _span;
    private readonly TaskCompletionSource<HttpResponseMessage> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>An event for <paramref name="request"/>; <paramref name="span"/> is the request's span, which the handler's code sees as current.</summary>
    public FetchEvent(ObjectActivation activation, HttpRequestMessage request, Activity? span = null)
    {
        _activation = activation;
        _request = request;
        _span = span;
    }

    /// <summary>The response; faults with what the handler threw, or with the reset (<see cref="DurableObjectException.DurableObjectReset"/>).</summary>
    public Task<HttpResponseMessage> Completion => _done.Task;

    private async Task RunAsync()
    {
        EventTelemetry.Adopt(_span);
        try
        {
            if (_activation.BeginEvent(Start, this) is not { } instance)
            {
                return;
            }
            var response = await instance.Fetch(_request).ConfigureAwait(true)
                ?? throw new InvalidOperationException("The Fetch handler returned no response (null).");
            if (_activation.Scheduler.PendingWrites is { IsCompletedSuccessfully: false } pending)
            {
                // The output gate: the response leaves once every write made before it is durable.
                await pending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!pending.IsCompletedSuccessfully)
                {
                    response.Dispose();
                    _activation.ThrowIfReset();
                    throw new DurableObjectException(pending.Exception?.GetBaseException().Message ?? "A write of the durable object failed.")
                    {
                        DurableObjectReset = true,
                        DurableObjectId = _activation.Id,
                    };
                }
            }
            _activation.ThrowIfReset();
            _activation.Exit();
            _done.TrySetResult(response);
        }
        catch (Exception e)
        {
            _activation.Exit();
            _done.TrySetException(e);
        }
    }
}
