using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace SourceGenDO;

/// <summary>Settings of a <see cref="DurableObjectClient"/>.</summary>
public sealed class DurableObjectClientOptions
{
    /// <summary>
    /// An HTTP handler for grpc-dotnet's <c>GrpcChannel</c> to carry the calls (for a proxy, custom TLS or
    /// a test server's handler). Left null, calls to an <c>http</c> address take SourceGenDO's own HTTP/2
    /// client, which is faster (it skips two thread hops per call); <c>https</c> addresses take a
    /// <c>GrpcChannel</c> over a <see cref="SocketsHttpHandler"/> that opens more HTTP/2 connections when
    /// one is full and keeps idle connections open.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>How long <see cref="DurableObjectClient.ConnectAsync(Uri, DurableObjectClientOptions?, CancellationToken)"/> waits for the server. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many calls the client may have queued or in flight at once (sent or waiting to be sent, and
    /// not yet answered, including calls of object code waiting for its writes to be durable), over all
    /// its stubs. Past it a call fails at once with a
    /// <see cref="DurableObjectException"/> whose <see cref="DurableObjectException.Overloaded"/> is true,
    /// instead of growing the client's memory while the server holds it back. Default 100,000.
    /// </summary>
    public int MaxQueuedCalls { get; set; } = 100_000;

    /// <summary>
    /// The access token of a server that requires one: sent as <c>authorization: Bearer &lt;token&gt;</c> on the
    /// handshake and the stream. A server that refuses it (missing, wrong, or scoped away from a namespace) makes
    /// <see cref="DurableObjectClient.ConnectAsync(Uri, DurableObjectClientOptions?, CancellationToken)"/> throw a
    /// <see cref="DurableObjectException"/> that is not <see cref="DurableObjectException.Retryable"/>. Over a
    /// network, use an <c>https</c> address, or the token travels in clear. Default null: none sent.
    /// </summary>
    public string? AccessToken { get; set; }

    /// <summary>
    /// Decides whether the server's TLS certificate is trusted, for an <c>https</c> address (for example a
    /// self-signed certificate compared by thumbprint). Default null: the machine's trusted roots decide.
    /// Cannot be combined with <see cref="HttpHandler"/> (set it on the handler then).
    /// </summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; set; }

    /// <summary>
    /// The TLS client certificate to present, for an <c>https</c> address whose server accepts client
    /// certificates in place of a token. Cannot be combined with <see cref="HttpHandler"/>. Default null.
    /// </summary>
    public X509Certificate2? ClientCertificate { get; set; }
}
