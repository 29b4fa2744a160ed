using Microsoft.Extensions.Logging;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Server.Http;

/// <summary>What happened on a socket, for the object's handler.</summary>
internal enum SocketEventKind
{
    Message,
    Close,
    Error,
}

/// <summary>
/// One run of an object's <c>WebSocketMessage</c>, <c>WebSocketClose</c> or <c>WebSocketError</c> handler,
/// delivered as an event like a call (it waits at the input gate and counts toward the object's queue
/// bound). It constructs the instance when the object was hibernating. An exception in the handler is
/// logged; the socket stays as it was.
/// </summary>
internal sealed class SocketEvent
{
    public static readonly SendOrPostCallback Start = static state => _ = ((SocketEvent)state!).RunAsync();

    private readonly ObjectActivation _activation;
    private readonly DurableWebSocket _socket;
    private readonly SocketEventKind _kind;
    private readonly DurableWebSocketMessage _message;
    private readonly int _code;
    private readonly string _reason;
    private readonly bool _wasClean;
    private readonly Exception? _error;
    private readonly ILogger _logger;
    // True when the handler ran (or threw); false when the activation was reset before it could.
    private readonly TaskCompletionSource<bool> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SocketEvent(ObjectActivation activation, DurableWebSocket socket, SocketEventKind kind, ILogger logger,
        DurableWebSocketMessage message = default, int code = 0, string reason = "", bool wasClean = false, Exception? error = null)
    {
        _activation = activation;
        _socket = socket;
        _kind = kind;
        _logger = logger;
        _message = message;
        _code = code;
        _reason = reason;
        _wasClean = wasClean;
        _error = error;
    }

    /// <summary>True once the handler ran; false when the activation was reset first, so the event goes to the next one.</summary>
    public Task<bool> Completion => _done.Task;

    private async Task RunAsync()
    {
        if (_activation.ResetError is not null)
        {
            Finish(ran: false);
            return;
        }
        try
        {
            if (_activation.BeginEvent(Start, this) is not { } instance)
            {
                return;
            }
            await (_kind switch
            {
                SocketEventKind.Message => instance.WebSocketMessage(_socket, _message),
                SocketEventKind.Close => instance.WebSocketClose(_socket, _code, _reason, _wasClean),
                _ => instance.WebSocketError(_socket, _error!),
            }).ConfigureAwait(true);
        }
        catch (DurableObjectException e) when (e.DurableObjectReset)
        {
            _logger.LogWarning("The {Handler} handler of durable object {Namespace}/{Id} ended with a reset: {Reason}", HandlerName, _activation.Namespace, _activation.Id, e.Message);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "The {Handler} handler of durable object {Namespace}/{Id} threw.", HandlerName, _activation.Namespace, _activation.Id);
        }
        Finish(ran: true);
    }

    private string HandlerName => _kind switch
    {
        SocketEventKind.Message => "WebSocketMessage",
        SocketEventKind.Close => "WebSocketClose",
        _ => "WebSocketError",
    };

    private void Finish(bool ran)
    {
        _activation.Exit();
        _done.TrySetResult(ran);
    }
}
