using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using SourceGenDO.Server.Execution;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Rpc;

/// <summary>
/// The gRPC dispatcher service: the handshake, and one stream per stub whose calls start on the object
/// in stream order.
/// </summary>
internal sealed class DurableObjectsService : DurableObjects.DurableObjectsBase
{
    private readonly DurableObjectHost _host;
    private readonly IHostApplicationLifetime _lifetime;

    public DurableObjectsService(DurableObjectHost host, IHostApplicationLifetime lifetime)
    {
        _host = host;
        _lifetime = lifetime;
    }

    public override Task<HandshakeResponse> Handshake(HandshakeRequest request, ServerCallContext context) =>
        Task.FromResult(_host.Handshake);

    public override async Task Connect(
        IAsyncStreamReader<ClientFrame> requestStream, IServerStreamWriter<ServerFrame> responseStream, ServerCallContext context)
    {
        var (host, id) = ResolveTarget(context.RequestHeaders);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _lifetime.ApplicationStopping);
        var connection = new ServerConnection(host, id);
        var writing = connection.WriteResultsAsync(responseStream);
        try
        {
            while (await requestStream.MoveNext(stopping.Token).ConfigureAwait(false))
            {
                var frame = requestStream.Current;
                foreach (var call in frame.Calls)
                {
                    connection.Dispatch(call);
                }
                foreach (var callId in frame.Cancels)
                {
                    connection.Cancel(callId);
                }
            }
            // The stub was disposed: answer what it already sent, then end the stream.
            await connection.WhenIdle().WaitAsync(stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_lifetime.ApplicationStopping.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The server is shutting down."));
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        finally
        {
            connection.Close();
            try
            {
                await writing.ConfigureAwait(false);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                // The stream is gone; results that were still queued have no reader.
            }
        }
    }

    private (NamespaceHost Host, DurableObjectId Id) ResolveTarget(Metadata headers)
    {
        var @namespace = headers.GetValue(StreamHeaders.Namespace);
        if (string.IsNullOrEmpty(@namespace))
        {
            throw Refuse(StatusCode.InvalidArgument, $"The stream has no \"{StreamHeaders.Namespace}\" header naming the namespace to call.");
        }
        if (!_host.TryGetNamespace(@namespace, out var host))
        {
            throw Refuse(StatusCode.NotFound, $"The server has no namespace \"{@namespace}\".");
        }
        var hex = headers.GetValue(StreamHeaders.Id);
        if (hex is null)
        {
            throw Refuse(StatusCode.InvalidArgument, $"The stream has no \"{StreamHeaders.Id}\" header naming the object to call.");
        }
        DurableObjectId id;
        try
        {
            id = host.Key.Parse(hex);
        }
        catch (ArgumentException e)
        {
            throw Refuse(StatusCode.InvalidArgument, StripParameterName(e));
        }
        if (headers.GetValueBytes(StreamHeaders.NameBinary) is { } nameBytes)
        {
            string name;
            try
            {
                name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(nameBytes);
            }
            catch (DecoderFallbackException)
            {
                throw Refuse(StatusCode.InvalidArgument, $"The \"{StreamHeaders.NameBinary}\" header is not valid UTF-8.");
            }
            if (!host.Key.IsNameOf(name, id))
            {
                throw Refuse(StatusCode.InvalidArgument, $"The name in \"{StreamHeaders.NameBinary}\" is not the name the id was derived from.");
            }
            id = id.WithName(name);
        }
        return (host, id);
    }

    private static string StripParameterName(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);

    private static RpcException Refuse(StatusCode code, string message) => new(new Status(code, message));
}
