namespace SourceGenDO;

/// <summary>Settings of a <see cref="DurableObjectClient"/>.</summary>
public sealed class DurableObjectClientOptions
{
    /// <summary>
    /// The HTTP handler the gRPC channel uses. By default a <see cref="SocketsHttpHandler"/> that opens
    /// more HTTP/2 connections when one is full and keeps idle connections open.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>How long <see cref="DurableObjectClient.ConnectAsync(Uri, DurableObjectClientOptions?, CancellationToken)"/> waits for the server. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
