using Grpc.Core;
using Microsoft.Extensions.Hosting;
using SourceGenDO.Server.Execution;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Rpc;

/// <summary>
/// The gRPC dispatcher service: the handshake, and client streams that carry the channels of many stubs,
/// each channel's calls starting on its object in stream order.
/// </summary>
/// <remarks>
/// Bound by hand (<see cref="BindService"/>) rather than through a generated base class, so that the
/// Connect stream uses <see cref="FrameCodec"/>'s frames; the wire format is the .proto's all the same.
/// gRPC finds the handlers by reflection at startup and accepts only virtual methods declared by the
/// bound type, hence the unsealed class and virtual methods.
/// </remarks>
[BindServiceMethod(typeof(DurableObjectsService), nameof(BindService))]
internal class DurableObjectsService
{
    private readonly DurableObjectHost _host;
    private readonly IHostApplicationLifetime _lifetime;

    public DurableObjectsService(DurableObjectHost host, IHostApplicationLifetime lifetime)
    {
        _host = host;
        _lifetime = lifetime;
    }

    /// <summary>Declares the service's methods to gRPC, which then finds them on the service by name.</summary>
    public static void BindService(ServiceBinderBase binder, DurableObjectsService? service)
    {
        binder.AddMethod(FrameCodec.Handshake, service is null ? null! : service.Handshake);
        binder.AddMethod(FrameCodec.ServerConnect, service is null ? null! : service.Connect);
    }

    public virtual Task<HandshakeResponse> Handshake(HandshakeRequest request, ServerCallContext context) =>
        Task.FromResult(_host.Handshake);

    public virtual async Task Connect(
        IAsyncStreamReader<IncomingClientFrame> requestStream, IServerStreamWriter<OutgoingServerFrame> responseStream, ServerCallContext context)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _lifetime.ApplicationStopping);
        var stream = new ServerStream(_host, responseStream);
        try
        {
            while (await requestStream.MoveNext(stopping.Token).ConfigureAwait(false))
            {
                var frame = requestStream.Current;
                stream.Dispatch(frame);
                frame.Release();
            }
            // The client half-closed: answer what it already sent, then end the stream.
            await stream.WhenIdle().WaitAsync(stopping.Token).ConfigureAwait(false);
            await stream.WhenWritesDone().WaitAsync(stopping.Token).ConfigureAwait(false);
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
            // gRPC forbids writing once the handler returns, so wait for the write in progress.
            stream.Close();
            await stream.WhenWritesDone().ConfigureAwait(false);
        }
    }
}
