using System.Collections.Frozen;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Security;

/// <summary>How a client got in.</summary>
internal enum GrantKind
{
    /// <summary>No token is configured and the connection is local (loopback, a Unix socket).</summary>
    Open,

    /// <summary>An access token.</summary>
    Token,

    /// <summary>A TLS client certificate that the validation accepted.</summary>
    Certificate,
}

/// <summary>
/// What an authenticated client may see and call: every namespace, or those its token is scoped to, with
/// the handshake (namespaces and their id keys) cut down to them.
/// </summary>
internal sealed class AccessGrant
{
    // Null: every namespace.
    private readonly FrozenSet<string>? _namespaces;

    public AccessGrant(GrantKind kind, IReadOnlyCollection<string>? namespaces, HandshakeResponse everything, byte[]? tokenHash = null)
    {
        Kind = kind;
        TokenHash = tokenHash;
        _namespaces = namespaces is { Count: > 0 } ? namespaces.ToFrozenSet(StringComparer.Ordinal) : null;
        if (_namespaces is null)
        {
            Handshake = everything;
        }
        else
        {
            // Id keys only of the namespaces granted: a client cannot mint or check ids of the others.
            Handshake = new HandshakeResponse();
            Handshake.Namespaces.AddRange(everything.Namespaces.Where(info => _namespaces.Contains(info.Name)));
        }
    }

    public GrantKind Kind { get; }

    /// <summary>The SHA-256 of the token, for a token's grant: how a reload finds whether the token is still valid.</summary>
    public byte[]? TokenHash { get; }

    /// <summary>What the handshake answers this client.</summary>
    public HandshakeResponse Handshake { get; }

    public bool IsScoped => _namespaces is not null;

    public bool Allows(string @namespace) => _namespaces is null || _namespaces.Contains(@namespace);

    public bool SameScope(AccessGrant other) =>
        _namespaces is null ? other._namespaces is null : other._namespaces is not null && _namespaces.SetEquals(other._namespaces);
}
