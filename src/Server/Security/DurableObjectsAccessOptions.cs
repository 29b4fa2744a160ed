using System.Security.Cryptography.X509Certificates;

namespace SourceGenDO.Server;

/// <summary>
/// Who may reach the server's objects (<see cref="DurableObjectsOptions.Access"/>). With no token and no
/// client certificate validation, the server serves loopback only: it refuses to start on any other address.
/// With a token, every gRPC call, route, WebSocket upgrade and <c>/api/durable_objects</c> request must carry one
/// of <see cref="Tokens"/> (as <c>Authorization: Bearer &lt;token&gt;</c>), or a TLS client certificate that
/// <see cref="ClientCertificateValidation"/> accepts.
/// </summary>
/// <remarks>
/// Tokens are also read from configuration: <c>DurableObjects:AccessToken</c> (one token, every namespace;
/// the environment variable <c>DurableObjects__AccessToken</c>) and <c>DurableObjects:AccessTokens</c>, a list
/// whose entries are a token, or a <c>Token</c> with <c>Namespaces</c> (a list, or names separated by commas).
/// Those are added to the tokens set in code and are read again when the configuration changes (an
/// <c>appsettings.json</c> edit): several tokens are valid at once, so a token is rotated by adding the new one,
/// moving clients to it, and removing the old one, whose streams and WebSockets are then ended.
/// </remarks>
public sealed class DurableObjectsAccessOptions
{
    /// <summary>The configuration section tokens are read from.</summary>
    public const string ConfigurationSection = "DurableObjects";

    /// <summary>The tokens that let clients in; several may be valid at once (for rotation).</summary>
    public IList<DurableObjectsAccessToken> Tokens { get; } = new List<DurableObjectsAccessToken>();

    /// <summary>
    /// Accepts a client whose TLS connection presented a certificate for which this returns true, in place of a
    /// token (a certificate grants every namespace). Kestrel must ask for certificates: on the HTTPS endpoint set
    /// <c>ClientCertificateMode</c> to <c>AllowCertificate</c> or <c>RequireCertificate</c>, and a Kestrel
    /// <c>ClientCertificateValidation</c> that lets through the certificates this callback judges (Kestrel's own
    /// check accepts only chains the machine trusts). With this set and no token, the server may listen on
    /// other addresses than loopback, but only with TLS.
    /// </summary>
    public Func<X509Certificate2, bool>? ClientCertificateValidation { get; set; }

    /// <summary>Adds a token granting <paramref name="namespaces"/>, or every namespace when none are given.</summary>
    /// <exception cref="ArgumentException">The token is not a valid one (see <see cref="DurableObjectsAccessToken"/>).</exception>
    public DurableObjectsAccessOptions AddToken(string token, params string[] namespaces)
    {
        Tokens.Add(new DurableObjectsAccessToken(token, namespaces));
        return this;
    }

    // What was wrong with the tokens in configuration: reported when the server starts, or logged on a reload
    // (which keeps the tokens in force), never thrown from the configuration's change callback.
    internal List<string> ConfigurationProblems { get; } = [];
}
