using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SourceGenDO.Serialization;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Hosting;
using SourceGenDO.Server.Security;
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
/// A Connect call ends with a status that says why: InvalidArgument for a malformed frame, Aborted when
/// the server could not write to the stream, Unavailable when the server stopped, Unauthenticated or
/// PermissionDenied when the caller has no valid credential (then before any frame is read) or its token was
/// removed by a reload of the access settings. The status is set on
/// the context rather than thrown, so that gRPC logs nothing per stream; the service logs such ends at
/// Warning, at most one line per <see cref="WarningInterval"/> and kind (a client can cause them at will).
/// </remarks>
[BindServiceMethod(typeof(DurableObjectsService), nameof(BindService))]
internal class DurableObjectsService
{
    /// <summary>The shortest time between two warnings of one kind; those in between are counted.</summary>
    public static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long an ending stream waits for its last write before it cuts the connection of a client that does not read.</summary>
    public static readonly TimeSpan LastWriteTimeout = TimeSpan.FromSeconds(5);

    private readonly DurableObjectHost _host;
    private readonly AccessGate _access;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly DurableObjectsOptions _options;
    private readonly TimeProvider _time;
    private readonly ThrottledWarning _malformed;
    private readonly ThrottledWarning _writeFailed;

    public DurableObjectsService(
        DurableObjectHost host, AccessGate access, IHostApplicationLifetime lifetime, IOptions<DurableObjectsOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        _host = host;
        _access = access;
        _lifetime = lifetime;
        _options = options.Value;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxCallsInFlightPerStream, nameof(DurableObjectsOptions.MaxCallsInFlightPerStream));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxUnsentResultBytesPerStream, nameof(DurableObjectsOptions.MaxUnsentResultBytesPerStream));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.ShutdownGracePeriod, TimeSpan.Zero, nameof(DurableObjectsOptions.ShutdownGracePeriod));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.ShutdownGracePeriod, TimeSpan.FromHours(1), nameof(DurableObjectsOptions.ShutdownGracePeriod));
        _time = time;
        var logger = loggers.CreateLogger("SourceGenDO.Server");
        _malformed = new ThrottledWarning(logger, time, WarningInterval, "A client stream sent a malformed frame and was ended: {Detail}");
        _writeFailed = new ThrottledWarning(logger, time, WarningInterval, "A client stream could not be written to and was ended: {Detail}");
    }

    /// <summary>Declares the service's methods to gRPC, which then finds them on the service by name.</summary>
    public static void BindService(ServiceBinderBase binder, DurableObjectsService? service)
    {
        binder.AddMethod(FrameCodec.Handshake, service is null ? null! : service.Handshake);
        binder.AddMethod(FrameCodec.ServerConnect, service is null ? null! : service.Connect);
    }

    /// <summary>The namespaces and id keys the caller may use: all of them, or those its token is scoped to.</summary>
    /// <exception cref="RpcException">Unauthenticated or PermissionDenied: the caller has no valid credential.</exception>
    public virtual Task<HandshakeResponse> Handshake(HandshakeRequest request, ServerCallContext context) =>
        Task.FromResult(IsInProcess(context) ? _host.Handshake : _access.AdmitHandshake(context).Handshake);

    public virtual async Task Connect(
        IAsyncStreamReader<IncomingClientFrame> requestStream, IServerStreamWriter<OutgoingServerFrame> responseStream, ServerCallContext context)
    {
        // The calls' spans are children of their callers' spans (or traces of their own), not of the
        // HTTP request that carries the stream for hours, nor of an object's call that opened it in-process.
        System.Diagnostics.Activity.Current = null;
        // Cancelled when the client leaves, when a write fails, or when a stopping server is drained.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        // The in-process stream carries the calls objects make to objects: bounding it could leave an
        // object waiting on a call that its own stream no longer reads, for good. Its requests come
        // from this process's client, which bounds them itself (MaxQueuedCalls).
        var inProcess = IsInProcess(context);
        // Objects calling objects are the server itself; every other stream is checked before any frame is read.
        StreamAccess? access = null;
        if (!inProcess)
        {
            if (_access.AdmitStream(context, out var refused) is not { } grant)
            {
                context.Status = refused;
                return;
            }
            access = new StreamAccess(_access, grant, context.Peer);
        }
        var stream = new ServerStream(_host, responseStream,
            inProcess ? int.MaxValue : _options.MaxCallsInFlightPerStream,
            inProcess ? long.MaxValue : _options.MaxUnsentResultBytesPerStream,
            access);
        // A stream whose token is removed (or rescoped) by a reload of the access settings is ended.
        Status? revoked = null;
        using var revocation = access is null ? null : _access.Policy.Watch(access.Grant, (unauthenticated, message) =>
        {
            revoked = new Status(unauthenticated ? StatusCode.Unauthenticated : StatusCode.PermissionDenied, message);
            CancelQuietly(ending);
        });
        _ = stream.WhenWriteFailed.ContinueWith(static (_, state) => CancelQuietly((CancellationTokenSource)state!), ending, TaskScheduler.Default);
        var stopping = false;
        using var onStopping = _lifetime.ApplicationStopping.Register(() =>
        {
            stopping = true;
            _ = DrainAsync(stream, ending, inProcess);
        });
        Status? end = null;
        try
        {
            while (await requestStream.MoveNext(ending.Token).ConfigureAwait(false))
            {
                var frame = requestStream.Current;
                var next = -1;
                while (!stream.Dispatch(frame, ref next))
                {
                    // At a bound of backpressure: read nothing more until results have left. A stream that
                    // can write nothing more never gets below it again (and WhenRoom completes at once).
                    ending.Token.ThrowIfCancellationRequested();
                    if (stream.WriteFailure is not null)
                    {
                        throw new OperationCanceledException(ending.Token);
                    }
                    await stream.WhenRoom().WaitAsync(ending.Token).ConfigureAwait(false);
                }
                frame.Release();
            }
            // The client half-closed: answer what it already sent, then end the stream.
            stream.EndRequestBodies();
            await stream.WhenIdle().WaitAsync(ending.Token).ConfigureAwait(false);
            await stream.WhenWritesDone().WaitAsync(ending.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested || stream.WriteFailure is not null)
        {
            // Told why below; a client that went away needs no answer.
        }
        catch (Exception e) when (e is not OperationCanceledException && MalformedFrameDetail(e) is null
            && (context.CancellationToken.IsCancellationRequested || e is IOException))
        {
            // The client reset the stream or its connection, or Kestrel faulted the connection (a client
            // that resets streams too fast gets ENHANCE_YOUR_CALM): reading fails as the request is
            // aborted, often before the abort token is set. Nobody is left to answer, and a client must
            // not be able to fill the log by hanging up.
        }
        catch (Exception e) when (MalformedFrameDetail(e) is { } detail)
        {
            _malformed.Log(detail);
            end = new Status(StatusCode.InvalidArgument, $"The stream was ended because a frame was malformed: {detail}");
        }
        finally
        {
            // gRPC forbids writing once the handler returns, so wait for the write in progress; a client
            // that does not read may hold that write for good, and then its connection is cut.
            stream.Close();
            var writesDone = stream.WhenWritesDone();
            if (!inProcess && await Task.WhenAny(writesDone, Task.Delay(LastWriteTimeout, _time)).ConfigureAwait(false) != writesDone)
            {
                context.GetHttpContext().Abort();
            }
            await writesDone.ConfigureAwait(false);
        }
        if (stream.WriteFailure is { } failure && !context.CancellationToken.IsCancellationRequested)
        {
            var reason = failure is RpcException rpc ? rpc.Status.Detail : failure.Message;
            _writeFailed.Log(reason);
            end = new Status(StatusCode.Aborted, $"The server could not write to the stream and ended it: {reason}");
        }
        else if (end is null && revoked is { } revocationStatus)
        {
            end = revocationStatus;
        }
        else if (end is null && stopping)
        {
            end = new Status(StatusCode.Unavailable, "The server is shutting down.");
        }
        if (end is { } status)
        {
            if (inProcess)
            {
                // The in-process transport learns a stream's status only from an exception.
                throw new RpcException(status);
            }
            context.Status = status;
        }
    }

    /// <summary>
    /// A stopping server's end of one stream: calls that arrive from now on are refused (retryable), those
    /// in flight may finish within the grace period, then the stream ends. Streams of objects calling
    /// objects on this server still take calls, as the calls in flight make them.
    /// </summary>
    private async Task DrainAsync(ServerStream stream, CancellationTokenSource ending, bool inProcess)
    {
        if (!inProcess)
        {
            stream.RefuseNewCalls();
        }
        try
        {
            await stream.WhenIdle().WaitAsync(_options.ShutdownGracePeriod, _time, ending.Token).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The grace period is over: what still runs fails at its callers as the stream ends.
        }
        catch (OperationCanceledException)
        {
            // The stream ended first.
        }
        CancelQuietly(ending);
    }

    // The in-process transport (objects calling objects) names its peer so.
    internal static bool IsInProcess(ServerCallContext context) => context.Peer == "in-process";

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The handler ended first.
        }
    }

    /// <summary>What was malformed, when <paramref name="exception"/> (thrown by reading a frame) says a frame did not decode.</summary>
    private static string? MalformedFrameDetail(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is WireFormatException or InvalidProtocolBufferException or OverflowException)
            {
                return e.Message;
            }
        }
        return null;
    }
}
