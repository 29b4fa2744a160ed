using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Server.Security;

/// <summary>
/// One immutable set of access rules: the tokens (by their SHA-256) and what each grants, and the client
/// certificate validation. A configuration reload makes a new set and cancels <see cref="Replaced"/> on the old.
/// </summary>
internal sealed class AccessRules
{
    private readonly (byte[] Hash, AccessGrant Grant)[] _tokens;

    private AccessRules((byte[] Hash, AccessGrant Grant)[] tokens, Func<X509Certificate2, bool>? certificates, AccessGrant everything)
    {
        _tokens = tokens;
        Certificates = certificates;
        Everything = everything;
    }

    /// <summary>True when no credential is configured: loopback connections get in, others do not.</summary>
    public bool IsOpen => _tokens.Length == 0 && Certificates is null;

    public bool HasTokens => _tokens.Length > 0;

    public Func<X509Certificate2, bool>? Certificates { get; }

    /// <summary>The grant of every namespace: for loopback clients of an open server, and for client certificates.</summary>
    public AccessGrant Everything { get; }

    /// <summary>Cancelled once these rules have been replaced by newer ones.</summary>
    public CancellationTokenSource Replaced { get; } = new();

    /// <summary>The rules <paramref name="options"/> set for the namespaces of <paramref name="host"/>.</summary>
    /// <exception cref="InvalidOperationException">A token is given twice, scoped to a namespace the server does not host, or the configuration named an invalid one.</exception>
    public static AccessRules Create(DurableObjectsAccessOptions options, DurableObjectHost host)
    {
        var problems = new List<string>(options.ConfigurationProblems);
        var tokens = new List<(byte[] Hash, AccessGrant Grant)>();
        var certificates = options.ClientCertificateValidation;
        var everything = new AccessGrant(certificates is null ? GrantKind.Open : GrantKind.Certificate, null, host.Handshake);
        var position = 0;
        foreach (var token in options.Tokens)
        {
            position++;
            foreach (var name in token.Namespaces.Where(name => !host.TryGetNamespace(name, out _)))
            {
                problems.Add($"Access token {position} ({token}) is scoped to the namespace \"{name}\", which the server does not host.");
            }
            var hash = Hash(token.Value);
            if (tokens.Any(known => CryptographicOperations.FixedTimeEquals(known.Hash, hash)))
            {
                problems.Add($"Access token {position} ({token}) is given twice; give each token once, with all the namespaces it grants.");
                continue;
            }
            tokens.Add((hash, new AccessGrant(GrantKind.Token, token.Namespaces, host.Handshake, hash)));
        }
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("The access settings of DurableObjectsOptions.Access are invalid: " + string.Join(" ", problems));
        }
        return new AccessRules([.. tokens], certificates, everything);
    }

    /// <summary>The grant of <paramref name="token"/>, or null when it is none of the tokens; in constant time for a given count of tokens.</summary>
    public AccessGrant? Match(string token)
    {
        if (token.Length > DurableObjectsAccessToken.MaxLength)
        {
            return null;
        }
        // Compared as hashes: equal lengths, so the time says nothing about the length or content of a token.
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(token, hash);
        AccessGrant? match = null;
        foreach (var (known, grant) in _tokens)
        {
            // Every token is compared, so the time does not tell which one matched either.
            if (CryptographicOperations.FixedTimeEquals(known, hash))
            {
                match = grant;
            }
        }
        return match;
    }

    /// <summary>
    /// What these rules make of a grant given under older ones: null when it still holds as it was, else why
    /// the client must leave (its token removed, its scope changed, a token now required).
    /// </summary>
    public (bool Unauthenticated, string Message)? Revalidate(AccessGrant grant)
    {
        switch (grant.Kind)
        {
            case GrantKind.Open:
                return IsOpen ? null : (true, "The server now requires an access token; connect again with one.");
            case GrantKind.Certificate:
                return Certificates is not null ? null : (true, "The server no longer accepts client certificates; connect again with an access token.");
            default:
                foreach (var (known, current) in _tokens)
                {
                    if (CryptographicOperations.FixedTimeEquals(known, grant.TokenHash))
                    {
                        return current.SameScope(grant) ? null : (false, "The namespaces the access token grants have changed; connect again.");
                    }
                }
                return (true, "The access token this connection was opened with is no longer accepted by the server (it was removed).");
        }
    }

    private static byte[] Hash(string token)
    {
        var hash = new byte[SHA256.HashSizeInBytes];
        Hash(token, hash);
        return hash;
    }

    private static void Hash(string token, Span<byte> hash)
    {
        // At most MaxLength characters of at most 3 bytes each: on the stack.
        Span<byte> utf8 = stackalloc byte[DurableObjectsAccessToken.MaxLength * 3];
        var length = Encoding.UTF8.GetBytes(token, utf8);
        SHA256.HashData(utf8[..length], hash);
    }
}
