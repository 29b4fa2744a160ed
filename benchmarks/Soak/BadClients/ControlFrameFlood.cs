using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SourceGenDO.Soak.BadClients;

/// <summary>
/// Raw HTTP/2 connections that send the client preface, then PING and empty SETTINGS frames (each asks
/// for an acknowledgement) as fast as the socket takes them, and never read. A server that bounds its
/// replies stops reading (the writes block) or closes the connection; a new one then takes its place.
/// </summary>
internal sealed class ControlFrameFlood(IPEndPoint server, int connections, TimeSpan hangThreshold) : BadClient("PING/SETTINGS flood", hangThreshold)
{
    // A write that takes this long means the server has stopped reading.
    private static readonly TimeSpan BlockedWrite = TimeSpan.FromSeconds(1);
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private static readonly byte[] Flood = BuildFlood();
    private long _bytesSent;

    protected override string Did =>
        $"{connections} raw HTTP/2 connections each writing 16 KiB batches of PING and empty SETTINGS frames as fast as the socket takes them, never reading";

    protected override async Task RunAsync(CancellationToken stop)
    {
        var started = 0;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await FloodOneAsync(stop, () =>
                {
                    if (Interlocked.Increment(ref started) == connections)
                    {
                        MarkStarted();
                    }
                });
                await PauseAsync(TimeSpan.FromSeconds(1), stop);
            }
        }, CancellationToken.None)));
        Saw.Add("bytes sent", Interlocked.Read(ref _bytesSent));
    }

    private async Task FloodOneAsync(CancellationToken stop, Action connected)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var blocked = false;
        var opened = Stopwatch.GetTimestamp();
        try
        {
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                connect.CancelAfter(HangThreshold);
                await socket.ConnectAsync(server, connect.Token);
            }
            connected();
            Saw.Add("connected");
            await socket.SendAsync(Preface, SocketFlags.None, stop);
            while (!stop.IsCancellationRequested)
            {
                var write = socket.SendAsync(Flood, SocketFlags.None, stop).AsTask();
                if (await Task.WhenAny(write, Task.Delay(BlockedWrite, stop)) != write && !stop.IsCancellationRequested && !blocked)
                {
                    blocked = true;
                    Saw.Add("the server stopped reading (a write blocked over 1 s)");
                }
                await write;
                Interlocked.Add(ref _bytesSent, Flood.Length);
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            if (!blocked)
            {
                Saw.Add("still flooding at the end (the server kept reading)");
            }
        }
        catch (Exception e)
        {
            Saw.Add($"closed by the server after {SecondsBucket(SecondsSince(opened))}: {Outcomes.Describe(e)}");
        }
    }

    /// <summary>A coarse duration, so that the kinds of outcome stay few.</summary>
    private static string SecondsBucket(double seconds) => seconds switch
    {
        < 1 => "under 1 s",
        < 10 => "1 to 10 s",
        _ => "over 10 s",
    };

    private static byte[] BuildFlood()
    {
        // A frame: 24-bit length, type, flags, 31-bit stream id (0: the connection), payload.
        var frames = new List<byte>();
        ulong counter = 0;
        while (frames.Count + 17 <= 16 * 1024)
        {
            // PING (type 6) with 8 bytes of opaque data.
            frames.AddRange([0, 0, 8, 6, 0, 0, 0, 0, 0]);
            frames.AddRange(BitConverter.GetBytes(++counter));
            // SETTINGS (type 4), empty.
            frames.AddRange([0, 0, 0, 4, 0, 0, 0, 0, 0]);
        }
        return [.. frames];
    }
}
