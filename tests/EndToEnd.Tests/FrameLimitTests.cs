using System.Text;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// No frame grows past the message limit, whatever its entries are: the results of many calls split
/// over frames by their real encoded size, an error too large to send arrives cut with a note, and the
/// stream and its stubs go on working.
/// </summary>
public sealed class FrameLimitTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    // Generous: a broken stream hangs for good, so the bound only turns that into a failure.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private DurableObjectNamespace<OversizeStub> Objects => fixture.Client.GetNamespace<OversizeStub>("OVERSIZE");

    [Fact]
    public async Task AThousandConcurrentCallsWithLargeErrorsEachFailWithTheirFullMessageAndTheStubGoesOn()
    {
        // 1,000 errors of 40,000 characters: 40 MB of results at once, over the 33 MiB frame limit.
        var stub = Objects.GetByName(ServerFixture.UniqueName());
        var calls = Enumerable.Range(0, 1000).Select(_ => stub.Throw(40_000)).ToArray();
        foreach (var call in calls)
        {
            var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => call.WaitAsync(Patience));
            Assert.Equal(40_000, thrown.Message.Length);
            Assert.True(thrown.Message.All(c => c == 'x'));
            Assert.True(thrown.IsRemote());
        }
        Assert.Equal(7, await stub.Ping(7).WaitAsync(Patience));
        var another = Objects.GetByName(ServerFixture.UniqueName());
        Assert.Equal(8, await another.Ping(8).WaitAsync(Patience));
    }

    [Fact]
    public async Task AnErrorMessageOverTheBoundArrivesCutWithANoteAndKeepsItsType()
    {
        var stub = Objects.GetByName(ServerFixture.UniqueName());
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => stub.Throw(40_000_000).WaitAsync(Patience));
        Assert.True(thrown.IsRemote());
        Assert.True(Encoding.UTF8.GetByteCount(thrown.Message) <= 64 * 1024, "the message is cut to the documented 64 KiB");
        Assert.StartsWith(new string('x', 60_000), thrown.Message);
        Assert.EndsWith(" [message cut: it was 40,000,000 bytes, over the limit of 65,536 bytes]", thrown.Message);
        Assert.Equal(7, await stub.Ping(7).WaitAsync(Patience));
    }

    [Fact]
    public async Task ManyLargeResultsAtOnceArriveWhole()
    {
        // 64 results of 1 MB with 64 large errors between them, all finishing at once.
        var stub = Objects.GetByName(ServerFixture.UniqueName());
        var values = Enumerable.Range(0, 64).Select(_ => stub.Bytes(1_000_000)).ToArray();
        var errors = Enumerable.Range(0, 64).Select(_ => stub.Throw(100_000)).ToArray();
        foreach (var value in values)
        {
            var bytes = await value.WaitAsync(Patience);
            Assert.Equal(1_000_000, bytes.Length);
            Assert.Equal(unchecked((byte)999_999), bytes[^1]);
        }
        foreach (var error in errors)
        {
            var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => error.WaitAsync(Patience));
            Assert.Contains("[message cut: it was 100,000 bytes", thrown.Message);
        }
    }
}
