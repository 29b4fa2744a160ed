using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SourceGenDO.Load;

namespace SourceGenDO.Soak.BadClients;

/// <summary>
/// TCP connections to the server's port that never send a byte. Each waits for the server to close it;
/// when it does, another takes its place, so that <c>count</c> stay open as long as the server allows.
/// </summary>
internal sealed class SilentSockets(IPEndPoint server, int count, TimeSpan hangThreshold) : BadClient("silent sockets", hangThreshold)
{
    // Between a close and the next connection: keeps the pressure without spinning on a refusing server.
    private static readonly TimeSpan Reconnect = TimeSpan.FromMilliseconds(100);
    private readonly LatencyHistogram _openFor = new();

    protected override string Did => $"{count:N0} TCP connections that never send a byte, each replaced when the server closes it";

    protected override async Task RunAsync(CancellationToken stop)
    {
        var attempted = 0;
        void FirstAttemptDone(ref bool first)
        {
            if (first)
            {
                first = false;
                if (Interlocked.Increment(ref attempted) == count)
                {
                    MarkStarted();
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
        {
            var first = true;
            while (!stop.IsCancellationRequested)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    using (var connect = CancellationTokenSource.CreateLinkedTokenSource(stop))
                    {
                        connect.CancelAfter(HangThreshold);
                        await socket.ConnectAsync(server, connect.Token);
                    }
                    Saw.Add("connected");
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    Saw.Add("connect failed: " + Outcomes.Describe(e));
                    FirstAttemptDone(ref first);
                    await PauseAsync(TimeSpan.FromSeconds(1), stop);
                    continue;
                }
                catch (Exception)
                {
                    return;
                }
                FirstAttemptDone(ref first);
                var opened = Stopwatch.GetTimestamp();
                var buffer = new byte[256];
                try
                {
                    long received = 0;
                    int read;
                    while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, stop)) > 0)
                    {
                        received += read;
                    }
                    lock (_openFor)
                    {
                        _openFor.Record(Stopwatch.GetTimestamp() - opened);
                    }
                    Saw.Add(received == 0 ? "closed by the server" : "closed by the server after it sent bytes");
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    Saw.Add("still open at the end");
                    return;
                }
                catch (Exception e)
                {
                    lock (_openFor)
                    {
                        _openFor.Record(Stopwatch.GetTimestamp() - opened);
                    }
                    Saw.Add("reset by the server: " + Outcomes.Describe(e));
                }
                await PauseAsync(Reconnect, stop);
            }
        }, CancellationToken.None)));
        lock (_openFor)
        {
            if (_openFor.Count > 0)
            {
                Saw.Add($"closed ones were open for p50 {_openFor.PercentileMicroseconds(0.5) / 1e6:N1} s, max {_openFor.PercentileMicroseconds(1) / 1e6:N1} s", _openFor.Count);
            }
        }
    }
}
