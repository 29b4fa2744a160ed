using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebSockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SourceGenDO.Diagnostics;
using SourceGenDO.Dispatch;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Security;

namespace SourceGenDO.Server.Http;

/// <summary>Which route value names the object.</summary>
internal enum RouteKey
{
    Name,
    Id,
}

/// <summary>
/// One mapped route: finds the object a request names, hands the request to its <c>Fetch</c> as an event,
/// and writes the response back; for a WebSocket upgrade that the object accepted, runs the socket.
/// </summary>
internal sealed class ObjectRoute
{
    private readonly NamespaceHost _namespace;
    private readonly RouteKey _key;
    private readonly RequestDelegate _handler;
    private readonly AccessGate _access;

    public ObjectRoute(NamespaceHost ns, RouteKey key, IServiceProvider services)
    {
        _namespace = ns;
        _key = key;
        _access = services.GetRequiredService<AccessGate>();
        // The WebSocket middleware, run for this route only, so that the app need not call UseWebSockets;
        // it steps aside when the app did.
        // Pings keep idle sockets through proxies and find clients that vanished without closing.
        var socketOptions = new WebSocketOptions
        {
            KeepAliveInterval = ns.Options.WebSocketKeepAliveInterval,
            KeepAliveTimeout = ns.Options.WebSocketKeepAliveTimeout,
        };
        var middleware = new WebSocketMiddleware(HandleAsync, Microsoft.Extensions.Options.Options.Create(socketOptions), services.GetRequiredService<ILoggerFactory>());
        _handler = middleware.Invoke;
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(CloseSockets);
    }

    /// <summary>The endpoint's request delegate.</summary>
    public RequestDelegate Handler => _handler;

    private ILogger Logger => _namespace.Logger;

    private async Task HandleAsync(HttpContext context)
    {
        // Before anything else: a refused request learns nothing and touches no object.
        if (await _access.AdmitRouteAsync(context, _namespace.Name).ConfigureAwait(false) is not { } grant)
        {
            return;
        }
        if (_stopping)
        {
            await WriteTextAsync(context, HttpStatusCode.ServiceUnavailable, ShuttingDown).ConfigureAwait(false);
            return;
        }
        if (!TryGetId(context, out var id, out var problem))
        {
            await WriteTextAsync(context, HttpStatusCode.BadRequest, problem).ConfigureAwait(false);
            return;
        }
        var isUpgrade = context.WebSockets.IsWebSocketRequest;
        if (HttpMessageCopy.ToRequestMessage(context, isUpgrade, out problem) is not { } request)
        {
            await WriteTextAsync(context, HttpStatusCode.BadRequest, problem).ConfigureAwait(false);
            return;
        }
        request.SetCancellationToken(context.RequestAborted);
        var upgrade = isUpgrade ? new HostedWebSocket(_namespace, id) : null;
        if (upgrade is not null)
        {
            request.SetWebSocket(upgrade.Socket);
        }
        var response = await FetchAsync(context, id, request, upgrade).ConfigureAwait(false);
        if (response is null)
        {
            request.Dispose();
            return;
        }
        if (upgrade is not null && _stopping)
        {
            // The server began stopping while Fetch ran: the socket it accepted is not opened.
            upgrade.Refuse();
            request.Dispose();
            response.Dispose();
            await WriteTextAsync(context, HttpStatusCode.ServiceUnavailable, ShuttingDown).ConfigureAwait(false);
            return;
        }
        if (upgrade is { IsAccepted: true } && response.StatusCode == HttpStatusCode.SwitchingProtocols)
        {
            var subProtocol = response.Headers.TryGetValues("Sec-WebSocket-Protocol", out var protocols) ? protocols.FirstOrDefault() : null;
            // The connection may stay open for days: nothing of the request and response is kept for it.
            request.Dispose();
            response.Dispose();
            request = null;
            response = null;
            await RunSocketAsync(context, id, upgrade, subProtocol, grant).ConfigureAwait(false);
            return;
        }
        upgrade?.Refuse();
        using (request)
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.SwitchingProtocols)
            {
                var why = upgrade is null
                    ? "The durable object's Fetch handler answered 101 Switching Protocols to a request that is not a WebSocket upgrade."
                    : "The durable object's Fetch handler answered 101 Switching Protocols without accepting the WebSocket: call Ctx.AcceptWebSocket(request.GetWebSocket()) first.";
                Logger.LogError("{Problem} ({Namespace}/{Id})", why, _namespace.Name, id);
                await WriteTextAsync(context, HttpStatusCode.InternalServerError, why).ConfigureAwait(false);
                return;
            }
            try
            {
                await HttpMessageCopy.CopyResponseAsync(response, context).ConfigureAwait(false);
            }
            catch (Exception) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away.
            }
            catch (Exception e)
            {
                // Headers may have left already: the client sees the connection end, not a half body.
                Logger.LogError(e, "Streaming the response of durable object {Namespace}/{Id} failed.", _namespace.Name, id);
                context.Abort();
            }
        }
    }

    /// <summary>Runs <c>Fetch</c> as an event; null when the answer (an error) was written already.</summary>
    private async Task<HttpResponseMessage?> FetchAsync(HttpContext context, DurableObjectId id, HttpRequestMessage request, HostedWebSocket? upgrade)
    {
        if (_namespace.TryEnter(id, out var activation) != EnterResult.Entered)
        {
            await WriteTextAsync(context, HttpStatusCode.ServiceUnavailable, RemoteErrors.OverloadedMessage).ConfigureAwait(false);
            return null;
        }
        using var span = EventTelemetry.StartRouteFetch(_namespace.Name, id, request);
        var fetch = new FetchEvent(activation, request, span);
        activation.Scheduler.PostEvent(FetchEvent.Start, fetch);
        try
        {
            var response = await fetch.Completion.ConfigureAwait(false);
            CurrentActivity.TagStatus(span, (int)response.StatusCode);
            return response;
        }
        catch (DurableObjectException e) when (e.DurableObjectReset)
        {
            EventTelemetry.Fail(span, e);
            upgrade?.Refuse();
            await WriteTextAsync(context, HttpStatusCode.ServiceUnavailable, $"The durable object was reset and did not answer: {e.Message} Retry the request.").ConfigureAwait(false);
        }
        catch (Exception e)
        {
            EventTelemetry.Fail(span, e);
            upgrade?.Refuse();
            Logger.LogError(e, "The Fetch handler of durable object {Namespace}/{Id} threw, answering {Method} {Path}.", _namespace.Name, id, context.Request.Method, context.Request.Path);
            await WriteTextAsync(context, HttpStatusCode.InternalServerError, $"The durable object's Fetch handler threw {e.GetType().Name}; the server log has the details.").ConfigureAwait(false);
        }
        return null;
    }

    private async Task RunSocketAsync(HttpContext context, DurableObjectId id, HostedWebSocket upgrade, string? subProtocol, AccessGrant grant)
    {
        // A browser that sent its token as a subprotocol offers "sourcegendo" beside it, and must be answered
        // one of its protocols (without it, a browser fails the handshake); the token's own is never echoed.
        subProtocol ??= context.WebSockets.WebSocketRequestedProtocols.Contains(AccessPolicy.WebSocketProtocol) ? AccessPolicy.WebSocketProtocol : null;
        System.Net.WebSockets.WebSocket webSocket;
        try
        {
            webSocket = await context.WebSockets.AcceptWebSocketAsync(subProtocol).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Logger.LogInformation(e, "Completing a WebSocket upgrade to durable object {Namespace}/{Id} failed.", _namespace.Name, id);
            upgrade.Refuse();
            return;
        }
        if (_stopping)
        {
            // Stopping began during the handshake, after CloseSockets looked: this socket closes too.
            upgrade.Terminate(GoingAway, "The server is stopping.", tellObject: false);
        }
        // A socket whose token is removed by a reload of the access settings is closed (1008, policy violation).
        using var revocation = _access.Policy.Watch(grant, (_, message) => upgrade.Terminate(PolicyViolation, RevokedReason, tellObject: true));
        await upgrade.RunAsync(webSocket).ConfigureAwait(false);
    }

    private bool TryGetId(HttpContext context, out DurableObjectId id, out string problem)
    {
        id = null!;
        var values = context.Request.RouteValues;
        var text = values[_key == RouteKey.Name ? "name" : "id"]?.ToString();
        if (string.IsNullOrEmpty(text))
        {
            problem = $"The request names no durable object: the route value \"{(_key == RouteKey.Name ? "name" : "id")}\" is empty.";
            return false;
        }
        try
        {
            id = _key == RouteKey.Name ? _namespace.Key.FromName(text) : _namespace.Key.Parse(text);
            problem = string.Empty;
            return true;
        }
        catch (ArgumentException e)
        {
            problem = e.Message;
            return false;
        }
    }

    private void CloseSockets()
    {
        _stopping = true;
        foreach (var socket in _namespace.Sockets.All())
        {
            socket.Terminate(GoingAway, "The server is stopping.", tellObject: false);
        }
    }

    private const int GoingAway = 1001;
    private const int PolicyViolation = 1008;
    // At most 123 bytes, as every close reason.
    private const string RevokedReason = "The access token of this socket is no longer accepted.";
    private const string ShuttingDown = "The server is shutting down.";

    // Set once the application is stopping: requests are refused, and upgrades not yet running are not opened.
    private volatile bool _stopping;

    private static Task WriteTextAsync(HttpContext context, HttpStatusCode status, string text)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }
}
