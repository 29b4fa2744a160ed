using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Server.Security;

/// <summary>Why a client was not let in.</summary>
internal enum AccessRefusal
{
    None,
    NoCredential,
    WrongToken,
    WrongCertificate,
    NotLoopback,
    NotGranted,
}

/// <summary>
/// The access rules in force, and who a request is: its bearer token (an <c>Authorization</c> header, or a
/// WebSocket subprotocol for browsers), its TLS client certificate, or, on a server without credentials, a
/// local connection. Rules are read again when the configuration changes; grants given under old rules are
/// checked against the new ones (<see cref="Watch"/>).
/// </summary>
internal sealed class AccessPolicy : IDisposable
{
    /// <summary>The subprotocol a browser offers beside <see cref="BearerProtocolPrefix"/>; the server answers it when the object names none.</summary>
    public const string WebSocketProtocol = "sourcegendo";

    /// <summary>A WebSocket subprotocol that carries the token: <c>sourcegendo.bearer.&lt;token&gt;</c>.</summary>
    public const string BearerProtocolPrefix = "sourcegendo.bearer.";

    private readonly DurableObjectHost _host;
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private volatile AccessRules _rules;

    /// <exception cref="InvalidOperationException">The access settings are invalid.</exception>
    public AccessPolicy(IOptionsMonitor<DurableObjectsOptions> options, DurableObjectHost host, ILoggerFactory loggers)
    {
        _host = host;
        _logger = loggers.CreateLogger("SourceGenDO.Server.Access");
        _rules = AccessRules.Create(options.CurrentValue.Access, host);
        _subscription = options.OnChange((changed, name) =>
        {
            if (name == Options.DefaultName)
            {
                Reload(changed.Access);
            }
        });
    }

    public AccessRules Rules => _rules;

    /// <summary>
    /// The grant of the request's credentials, or null with the <paramref name="refusal"/>. A presented token
    /// must be valid; a client certificate counts only when no token was sent.
    /// </summary>
    public AccessGrant? Authenticate(HttpContext context, out AccessRefusal refusal)
    {
        var rules = _rules;
        if (rules.IsOpen)
        {
            var local = IsLocal(context.Connection.LocalIpAddress);
            refusal = local ? AccessRefusal.None : AccessRefusal.NotLoopback;
            return local ? rules.Everything : null;
        }
        if (PresentedToken(context.Request) is { } token)
        {
            var grant = rules.Match(token);
            refusal = grant is null ? AccessRefusal.WrongToken : AccessRefusal.None;
            return grant;
        }
        if (rules.Certificates is { } validate && context.Connection.ClientCertificate is { } certificate)
        {
            bool valid;
            try
            {
                valid = validate(certificate);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "DurableObjectsOptions.Access.ClientCertificateValidation threw; the certificate {Subject} was refused.", certificate.Subject);
                valid = false;
            }
            refusal = valid ? AccessRefusal.None : AccessRefusal.WrongCertificate;
            return valid ? rules.Everything : null;
        }
        refusal = AccessRefusal.NoCredential;
        return null;
    }

    /// <summary>
    /// Calls <paramref name="revoked"/> once, with why, when the rules change so that <paramref name="grant"/>
    /// no longer holds (its token removed or rescoped); until disposed.
    /// </summary>
    public IDisposable Watch(AccessGrant grant, Action<bool, string> revoked) => new GrantWatch(this, grant, revoked);

    /// <summary>True for addresses only this machine reaches: loopback, or none (a Unix socket, a named pipe, an in-memory server).</summary>
    public static bool IsLocal(IPAddress? address) =>
        address is null || IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    /// <summary>The bearer token of <c>Authorization</c>, or of a <c>sourcegendo.bearer.</c> WebSocket subprotocol.</summary>
    public static string? PresentedToken(HttpRequest request)
    {
        foreach (var value in request.Headers.Authorization)
        {
            if (value is not null && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return value[7..].Trim();
            }
        }
        foreach (var value in request.Headers.SecWebSocketProtocol)
        {
            foreach (var range in (value ?? "").AsSpan().Split(','))
            {
                var protocol = value.AsSpan(range).Trim();
                if (protocol.StartsWith(BearerProtocolPrefix, StringComparison.Ordinal))
                {
                    return protocol[BearerProtocolPrefix.Length..].ToString();
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Takes the token out of what an object's <c>Fetch</c> sees: the <c>Authorization: Bearer</c> header and the
    /// subprotocol that carried it. Other subprotocols stay.
    /// </summary>
    public static void RemoveToken(HttpRequest request)
    {
        var headers = request.Headers;
        if (headers.Authorization.Any(value => value?.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) == true))
        {
            headers.Remove("Authorization");
        }
        var protocols = headers.SecWebSocketProtocol;
        if (protocols.Count > 0 && protocols.Any(value => value?.Contains(BearerProtocolPrefix, StringComparison.Ordinal) == true))
        {
            var kept = protocols.SelectMany(value => (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                .Where(protocol => !protocol.StartsWith(BearerProtocolPrefix, StringComparison.Ordinal))
                .ToArray();
            if (kept.Length == 0)
            {
                headers.Remove("Sec-WebSocket-Protocol");
            }
            else
            {
                headers.SecWebSocketProtocol = string.Join(", ", kept);
            }
        }
    }

    public void Dispose() => _subscription?.Dispose();

    private void Reload(DurableObjectsAccessOptions options)
    {
        AccessRules next;
        try
        {
            next = AccessRules.Create(options, _host);
        }
        catch (InvalidOperationException e)
        {
            _logger.LogError("The access settings were changed, but the new ones are invalid; the server keeps the ones in force. {Problem}", e.Message);
            return;
        }
        var old = Interlocked.Exchange(ref _rules, next);
        _logger.LogInformation("Access settings reloaded: {Tokens} access token(s).", next.HasTokens ? "some" : "no");
        try
        {
            // Runs the watches of the grants given so far: those that no longer hold end their streams and sockets.
            old.Replaced.Cancel();
        }
        catch (AggregateException e)
        {
            _logger.LogError(e, "Ending the connections whose access was revoked failed.");
        }
    }

    /// <summary>Follows one grant across reloads until it no longer holds or the watch is disposed.</summary>
    private sealed class GrantWatch : IDisposable
    {
        private readonly AccessPolicy _policy;
        private readonly AccessGrant _grant;
        private readonly Action<bool, string> _revoked;
        private readonly Lock _lock = new();
        private CancellationTokenRegistration _registration;
        private bool _done;

        public GrantWatch(AccessPolicy policy, AccessGrant grant, Action<bool, string> revoked)
        {
            _policy = policy;
            _grant = grant;
            _revoked = revoked;
            Check();
        }

        public void Dispose()
        {
            CancellationTokenRegistration registration;
            lock (_lock)
            {
                _done = true;
                registration = _registration;
            }
            // Outside the lock: disposing waits for a Check running meanwhile, which takes the lock.
            registration.Dispose();
        }

        // Checks the grant against the rules in force, and watches them for the next change.
        private void Check()
        {
            var rules = _policy._rules;
            if (rules.Revalidate(_grant) is { } revocation)
            {
                lock (_lock)
                {
                    if (_done)
                    {
                        return;
                    }
                    _done = true;
                }
                _revoked(revocation.Unauthenticated, revocation.Message);
                return;
            }
            // Runs Check at once, on this thread, when the rules were replaced meanwhile; that inner Check then
            // keeps its own registration, and this one, already run, is not kept.
            var registration = rules.Replaced.Token.UnsafeRegister(static watch => ((GrantWatch)watch!).Check(), this);
            bool keep;
            lock (_lock)
            {
                keep = !_done && !rules.Replaced.IsCancellationRequested;
                if (keep)
                {
                    _registration = registration;
                }
            }
            if (!keep)
            {
                registration.Dispose();
            }
        }
    }
}
