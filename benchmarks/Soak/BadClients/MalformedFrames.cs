using Grpc.Core;

namespace SourceGenDO.Soak.BadClients;

/// <summary>
/// Connect streams that send one malformed message each (in turn a one-byte frame and a frame of random
/// bytes) and half-close, then wait for the server to end the stream; paced at <c>perSecond</c> streams a
/// second in all.
/// </summary>
internal sealed class MalformedFrames(RawWire wire, int workers, double perSecond, TimeSpan hangThreshold) : BadClient("malformed frames", hangThreshold)
{
    // 0x0A is the key of field 1 (opens), length-delimited, with the length missing.
    private static readonly byte[] OneByte = [0x0A];

    protected override string Did =>
        $"up to {perSecond:N0} Connect streams a second ({workers} at a time), each sending one malformed message (a one-byte frame, or 16 to 4,096 random bytes), half-closing and waiting for the stream's end";

    protected override async Task RunAsync(CancellationToken stop)
    {
        using var channel = wire.NewChannel();
        var invoker = channel.CreateCallInvoker();
        var interval = TimeSpan.FromSeconds(workers / perSecond);
        MarkStarted();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var payload = n % 2 == 0 ? OneByte : RandomBytes(random);
                await SendOneAsync(invoker, payload, payload.Length == 1 ? "one-byte frame" : "random bytes", stop);
                await PauseAsync(interval, stop);
            }
        }, CancellationToken.None)));
    }

    private async Task SendOneAsync(CallInvoker invoker, byte[] payload, string what, CancellationToken stop)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
        attempt.CancelAfter(HangThreshold);
        using var call = invoker.AsyncDuplexStreamingCall(RawWire.ConnectBytes, null, new CallOptions(cancellationToken: attempt.Token));
        try
        {
            try
            {
                await call.RequestStream.WriteAsync(payload);
                // Half-closed at once. Random bytes are now and then a valid frame (of unknown fields, which a
                // reader skips): the server then waits for more, and only the end of the request ends it (OK).
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception) when (!attempt.IsCancellationRequested)
            {
                // The server ended the stream while we wrote; its status comes on the response stream.
            }
            var frames = 0;
            while (await call.ResponseStream.MoveNext(attempt.Token))
            {
                frames++;
            }
            Saw.Add($"{what}: the stream ended with OK{(frames > 0 ? $" after {frames} frames" : "")}");
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // The end of the phase.
        }
        catch (Exception) when (attempt.IsCancellationRequested)
        {
            Hang($"{what}: the stream was not ended within {HangThreshold.TotalSeconds:0} s");
        }
        catch (RpcException e)
        {
            // The status without what was malformed where: random bytes fail in as many ways as there are
            // payloads, and the counts must stay a few kinds (a hang among hundreds of kinds would be lost).
            var detail = e.Status.Detail;
            var general = detail.IndexOf(": ", StringComparison.Ordinal) is > 0 and var colon ? detail[..colon] + ": ..." : detail;
            Saw.Add($"{what}: RpcException {e.StatusCode}: {general}");
        }
        catch (Exception e)
        {
            Saw.Add($"{what}: {Outcomes.Describe(e)}");
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(16, 4097)];
        random.NextBytes(bytes);
        return bytes;
    }
}
