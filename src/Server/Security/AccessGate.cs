using System.Net;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SourceGenDO.Serialization;
using SourceGenDO.Server.Hosting;

namespace SourceGenDO.Server.Security;

/// <summary>
/// Lets clients in, or refuses them before any object is touched, on every surface: the gRPC handshake and
/// Connect stream (Unauthenticated / PermissionDenied), channels of namespaces a scoped token does not grant,
/// routes and WebSocket upgrades (401 / 403 with <c>WWW-Authenticate: Bearer</c>), and every path under
/// <c>/api/durable_objects</c>. Each refusal is logged at Warning, at most once per
/// <see cref="WarningInterval"/> and kind, and never with the token.
/// </summary>
internal sealed class AccessGate
{
    /// <summary>The shortest time between two warnings of one kind of refusal; those in between are counted.</summary>
    public static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);

    /// <summary>The path every listing request starts with: guarded whatever endpoint serves it.</summary>
    public const string ApiPrefix = "/api/durable_objects";

    private const string Realm = "Bearer realm=\"SourceGenDO\"";

    private readonly Dictionary<AccessRefusal, ThrottledWarning> _warnings;

    public AccessGate(AccessPolicy policy, TimeProvider time, ILoggerFactory loggers)
    {
        Policy = policy;
        var logger = loggers.CreateLogger("SourceGenDO.Server.Access");
        _warnings = Enum.GetValues<AccessRefusal>().Where(kind => kind != AccessRefusal.None)
            .ToDictionary(kind => kind, _ => new ThrottledWarning(logger, time, WarningInterval, "Refused {Detail}"));
    }

    public AccessPolicy Policy { get; }

    /// <summary>The grant of a handshake's caller.</summary>
    /// <exception cref="RpcException">Unauthenticated or PermissionDenied, saying why.</exception>
    public AccessGrant AdmitHandshake(ServerCallContext context) => AdmitCall(context, "the handshake");

    /// <summary>The grant of the caller of a unary call, <paramref name="what"/> in the refusal's log line.</summary>
    /// <exception cref="RpcException">Unauthenticated or PermissionDenied, saying why.</exception>
    public AccessGrant AdmitCall(ServerCallContext context, string what)
    {
        var http = context.GetHttpContext();
        return Policy.Authenticate(http, out var refusal) ?? throw new RpcException(Refuse(http, what, refusal));
    }

    /// <summary>The grant of a Connect stream's caller, or null with the status to end the stream with.</summary>
    public AccessGrant? AdmitStream(ServerCallContext context, out Status refused)
    {
        var http = context.GetHttpContext();
        var grant = Policy.Authenticate(http, out var refusal);
        refused = grant is null ? Refuse(http, "a Connect stream", refusal) : Status.DefaultSuccess;
        return grant;
    }

    /// <summary>Null when <paramref name="grant"/> lets a stream open a channel on <paramref name="namespace"/>; else the channel's error message.</summary>
    public string? RefuseChannel(AccessGrant grant, string @namespace, string peer)
    {
        if (grant.Allows(@namespace))
        {
            return null;
        }
        var message = Message(AccessRefusal.NotGranted, @namespace);
        _warnings[AccessRefusal.NotGranted].Log($"a channel from {peer}: {message}");
        return message;
    }

    /// <summary>
    /// The grant of a route's request to an object of <paramref name="namespace"/>, with the token taken out of
    /// what <c>Fetch</c> will see; null when refused, the 401 or 403 written.
    /// </summary>
    public async ValueTask<AccessGrant?> AdmitRouteAsync(HttpContext context, string @namespace)
    {
        var grant = Policy.Authenticate(context, out var refusal);
        if (grant is not null && !grant.Allows(@namespace))
        {
            grant = null;
            refusal = AccessRefusal.NotGranted;
        }
        if (grant is null)
        {
            var surface = context.WebSockets.IsWebSocketRequest ? "a WebSocket upgrade" : "a route request";
            var message = Log(context, $"{surface} {context.Request.Method} {ClientText.Quote(context.Request.Path.Value ?? "")}", refusal, @namespace);
            WriteHead(context, refusal, "text/plain; charset=utf-8");
            await context.Response.WriteAsync(message, context.RequestAborted).ConfigureAwait(false);
            return null;
        }
        if (grant.Kind == GrantKind.Token)
        {
            AccessPolicy.RemoveToken(context.Request);
        }
        return grant;
    }

    /// <summary>The middleware of every path under <see cref="ApiPrefix"/>: authenticated callers go on, others get 401 in the API's envelope.</summary>
    public Task GuardApiAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Features.Get<AccessGrant>() is not null)
        {
            return next(context);
        }
        var grant = Policy.Authenticate(context, out var refusal);
        if (grant is not null)
        {
            context.Features.Set(grant);
            return next(context);
        }
        var message = Log(context, $"{context.Request.Method} {ClientText.Quote(context.Request.Path.Value ?? "")}", refusal, null);
        WriteHead(context, refusal, "application/json; charset=utf-8");
        return WriteEnvelopeAsync(context, message);
    }

    /// <summary>
    /// Whether the caller of <paramref name="context"/> may see <paramref name="namespace"/>: the listing API asks
    /// this for every namespace it would list or page through.
    /// </summary>
    public bool CanSeeNamespace(HttpContext context, string @namespace)
    {
        var grant = context.Features.Get<AccessGrant>();
        if (grant is null)
        {
            grant = Policy.Authenticate(context, out _);
            if (grant is null)
            {
                return false;
            }
            context.Features.Set(grant);
        }
        return grant.Allows(@namespace);
    }

    /// <summary>True for a path under <see cref="ApiPrefix"/>, ignoring case and empty segments (<c>//api//durable_objects/x</c>).</summary>
    public static bool IsApiPath(PathString path)
    {
        var rest = (path.Value ?? "").AsSpan();
        foreach (var segment in (ReadOnlySpan<string>)["api", "durable_objects"])
        {
            rest = rest.TrimStart('/');
            if (!rest.StartsWith(segment, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
            rest = rest[segment.Length..];
            if (rest.Length > 0 && rest[0] != '/')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>What a refused client is told: never the token, and how to get in.</summary>
    public string Message(AccessRefusal refusal, string? @namespace) => refusal switch
    {
        AccessRefusal.NoCredential when Policy.Rules.Certificates is not null && !Policy.Rules.HasTokens =>
            "This server requires a TLS client certificate (with the .NET client, DurableObjectClientOptions.ClientCertificate).",
        AccessRefusal.NoCredential => "This server requires an access token: send it as \"Authorization: Bearer <token>\" "
            + "(with the .NET client, DurableObjectClientOptions.AccessToken)"
            + (Policy.Rules.Certificates is null ? "." : ", or a TLS client certificate (DurableObjectClientOptions.ClientCertificate)."),
        AccessRefusal.WrongToken => "The access token was not accepted by the server.",
        AccessRefusal.WrongCertificate => "The client certificate was not accepted by the server.",
        AccessRefusal.NotLoopback => "This server has no access token configured, so it serves only connections to its loopback addresses.",
        AccessRefusal.NotGranted => $"The access token does not grant the namespace {ClientText.Quote(@namespace ?? "")}.",
        _ => "Access refused.",
    };

    private Status Refuse(HttpContext context, string surface, AccessRefusal refusal)
    {
        var message = Log(context, surface, refusal, null);
        var code = refusal is AccessRefusal.NotLoopback or AccessRefusal.NotGranted ? StatusCode.PermissionDenied : StatusCode.Unauthenticated;
        return new Status(code, message);
    }

    private string Log(HttpContext context, string surface, AccessRefusal refusal, string? @namespace)
    {
        var message = Message(refusal, @namespace);
        var connection = context.Connection;
        var from = connection.RemoteIpAddress is { } remote ? new IPEndPoint(remote, connection.RemotePort).ToString() : "a local connection";
        var to = refusal == AccessRefusal.NotLoopback ? $" (it came to {connection.LocalIpAddress})" : "";
        _warnings[refusal].Log($"{surface} from {from}{to}: {message}");
        return message;
    }

    private static void WriteHead(HttpContext context, AccessRefusal refusal, string contentType)
    {
        var response = context.Response;
        var forbidden = refusal is AccessRefusal.NotLoopback or AccessRefusal.NotGranted;
        response.StatusCode = forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
        // RFC 6750 section 3: the scheme, and the error code when a token was sent.
        response.Headers.WWWAuthenticate = refusal switch
        {
            AccessRefusal.WrongToken => Realm + ", error=\"invalid_token\"",
            AccessRefusal.NotGranted => Realm + ", error=\"insufficient_scope\"",
            _ => Realm,
        };
        response.ContentType = contentType;
    }

    // The envelope of the Durable Objects REST API, with its authentication error code.
    private static async Task WriteEnvelopeAsync(HttpContext context, string message)
    {
        using var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("success", false);
            json.WriteStartArray("errors");
            json.WriteStartObject();
            json.WriteNumber("code", 10000);
            json.WriteString("message", message);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartArray("messages");
            json.WriteEndArray();
            json.WriteNull("result");
            json.WriteEndObject();
        }
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
    }
}
