using System.Diagnostics;
using SourceGenDO.Wire;

namespace SourceGenDO.Soak.BadClients;

/// <summary>
/// Connect streams that send calls and never read a result: each sends up to <c>callsEach</c> calls in
/// frames of 1,000 as fast as the stream takes them, then holds the stream open, still not reading.
/// A server with backpressure stops reading them, so their writes block.
/// </summary>
internal sealed class SlowReaders(RawWire wire, int streams, long callsEach, TimeSpan hangThreshold) : BadClient("slow readers", hangThreshold)
{
    private const int CallsPerFrame = 1000;
    // A write that takes this long means the server (through HTTP/2 flow control) is pushing back.
    private static readonly TimeSpan BlockedWrite = TimeSpan.FromSeconds(1);

    protected override string Did =>
        $"{streams} Connect streams (one connection each) sending up to {callsEach:N0} Increment calls each in frames of {CallsPerFrame:N0}, never reading";

    protected override async Task RunAsync(CancellationToken stop)
    {
        var started = 0;
        await Task.WhenAll(Enumerable.Range(0, streams).Select(i => Task.Run(async () =>
        {
            using var channel = wire.NewChannel();
            var client = new DurableObjects.DurableObjectsClient(channel);
            using var call = client.Connect(cancellationToken: stop);
            if (Interlocked.Increment(ref started) == streams)
            {
                MarkStarted();
            }
            long sent = 0;
            ulong nextId = 1;
            var open = wire.Open($"slow-{i}");
            Task? pending = null;
            try
            {
                while (sent < callsEach && !stop.IsCancellationRequested)
                {
                    var frame = new ClientFrame();
                    if (open is not null)
                    {
                        frame.Opens.Add(open);
                        open = null;
                    }
                    for (var k = 0; k < CallsPerFrame; k++)
                    {
                        frame.Calls.Add(new Call { CallId = nextId++, Channel = 1, Method = "Increment", Args = RawWire.IncrementOne });
                    }
                    pending = call.RequestStream.WriteAsync(frame, stop);
                    var writeStart = Stopwatch.GetTimestamp();
                    if (await Task.WhenAny(pending, Task.Delay(BlockedWrite, stop)) != pending && !stop.IsCancellationRequested)
                    {
                        Saw.Add("a write blocked over 1 s");
                    }
                    await pending;
                    pending = null;
                    sent += CallsPerFrame;
                    if (Stopwatch.GetElapsedTime(writeStart) > BlockedWrite)
                    {
                        Saw.Add("a blocked write went through later");
                    }
                }
                if (sent >= callsEach)
                {
                    Saw.Add($"sent every call ({callsEach:N0}): the server kept reading");
                }
                // Hold the stream open, never reading, until the end of the phase.
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                if (pending is { IsCompleted: false })
                {
                    Saw.Add("a write still blocked at the end (the server stopped reading)");
                }
            }
            catch (Exception e)
            {
                Saw.Add("the stream failed: " + Outcomes.Describe(e));
            }
            finally
            {
                Saw.Add("calls sent", sent);
            }
        }, CancellationToken.None)));
    }
}
