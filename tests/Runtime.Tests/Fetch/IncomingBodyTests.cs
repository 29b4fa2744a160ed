using SourceGenDO.Transport.Fetch;

namespace SourceGenDO.Runtime.Tests.Fetch;

/// <summary>The reading side of a streamed body: its heap stays within the window whatever the chunks' sizes.</summary>
public sealed class IncomingBodyTests
{
    private sealed class Signals : IBodySignals
    {
        public long Granted { get; private set; }

        public void Signal(uint credit, bool stop) => Granted += credit;
    }

    [Fact]
    public void AWindowOfOneByteChunksHoldsAboutTheWindowInHeap()
    {
        using var body = new IncomingBody(new Signals(), "request");
        // Warm up the code path and the pool's segments first.
        body.Receive(1, new byte[1], end: false, error: null);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1; i < FetchWire.Window; i++)
        {
            body.Receive(1, [(byte)i], end: false, error: null);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // One copy per chunk cost about 56 times the window (14.7 MB); segments cost the window.
        Assert.True(allocated < 2 * FetchWire.Window, $"{FetchWire.Window:N0} one-byte chunks allocated {allocated:N0} bytes.");
    }

    [Fact]
    public async Task AReadTakesTheBytesOfManyChunks()
    {
        using var body = new IncomingBody(new Signals(), "response");
        for (var i = 0; i < 1000; i++)
        {
            body.Receive(1, [(byte)i], end: false, error: null);
        }
        body.Receive(1, [], end: true, error: null);
        var buffer = new byte[4096];
        Assert.Equal(1000, await body.ReadAsync(buffer));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (byte)i), buffer.Take(1000));
        Assert.Equal(0, await body.ReadAsync(buffer));
    }

    [Fact]
    public async Task BytesComeOutInOrderAcrossSegmentsAndCreditIsGrantedAsTheyAreRead()
    {
        var signals = new Signals();
        using var body = new IncomingBody(signals, "request");
        var sent = new byte[FetchWire.Window];
        new Random(3).NextBytes(sent);
        for (var offset = 0; offset < sent.Length; offset += 1000)
        {
            body.Receive(1, sent.AsSpan(offset, Math.Min(1000, sent.Length - offset)), end: false, error: null);
        }
        var received = new byte[sent.Length];
        var total = 0;
        while (total < received.Length)
        {
            total += await body.ReadAsync(received.AsMemory(total, Math.Min(7000, received.Length - total)));
        }
        Assert.Equal(sent, received);
        // Granted in steps of at least a quarter window (3 × 70,000 bytes read); the rest waits for more reads.
        Assert.Equal(210_000, signals.Granted);
    }

    [Fact]
    public void ASynchronousReadIsRefused()
    {
        using var body = new IncomingBody(new Signals(), "request");
        var refused = Assert.Throws<NotSupportedException>(() => body.Read(new byte[10], 0, 10));
        Assert.StartsWith("A fetch body cannot be read or written synchronously: read the request body with ReadAsync/CopyToAsync", refused.Message);
    }
}
