namespace SourceGenDO.Server;

/// <summary>
/// A secret that lets a client in: sent as <c>Authorization: Bearer &lt;token&gt;</c> on the gRPC calls and
/// HTTP requests (see <see cref="DurableObjectsAccessOptions"/>), optionally limited to some namespaces.
/// </summary>
public sealed class DurableObjectsAccessToken
{
    /// <summary>The fewest characters a token may have: shorter ones can be guessed.</summary>
    public const int MinLength = 16;

    /// <summary>The most characters a token may have.</summary>
    public const int MaxLength = 1024;

    /// <summary>Creates a token granting <paramref name="namespaces"/>, or every namespace when none are named.</summary>
    /// <param name="value">
    /// The secret: <see cref="MinLength"/> to <see cref="MaxLength"/> characters among letters, digits and
    /// <c>- . _ ~</c> (so that it fits an HTTP header and a WebSocket subprotocol unchanged), for example
    /// 64 hex digits from <c>openssl rand -hex 32</c>.
    /// </param>
    /// <param name="namespaces">The namespaces a client with this token may see and call; empty or null: all.</param>
    /// <exception cref="ArgumentException">The value is too short, too long or has other characters, or a namespace is empty.</exception>
    public DurableObjectsAccessToken(string value, IEnumerable<string>? namespaces = null)
    {
        if (Problem(value) is { } problem)
        {
            throw new ArgumentException(problem, nameof(value));
        }
        var granted = namespaces?.ToArray() ?? [];
        if (granted.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("An access token's namespaces must not be empty.", nameof(namespaces));
        }
        Value = value;
        Namespaces = granted;
    }

    /// <summary>The secret itself. Never logged.</summary>
    public string Value { get; }

    /// <summary>The namespaces the token grants; empty when it grants every namespace.</summary>
    public IReadOnlyList<string> Namespaces { get; }

    /// <summary>What the token grants, without its value, so that logging a token never leaks it.</summary>
    public override string ToString() =>
        Namespaces.Count == 0 ? "access token (every namespace)" : $"access token (namespaces {string.Join(", ", Namespaces)})";

    /// <summary>Why <paramref name="value"/> cannot be a token, or null when it can; never quotes the value.</summary>
    internal static string? Problem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "An access token must not be empty.";
        }
        if (value.Length is < MinLength or > MaxLength)
        {
            return $"An access token must have {MinLength} to {MaxLength} characters; this one has {value.Length} (use, for example, 64 hex digits from \"openssl rand -hex 32\").";
        }
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_' or '~'))
            {
                return "An access token may hold only letters, digits and - . _ ~ (so that it fits an HTTP header and a WebSocket subprotocol unchanged).";
            }
        }
        return null;
    }
}
