using SourceGenDO.Tests.Shared;

namespace SourceGenDO.EndToEnd.Tests.Durability;

/// <summary>
/// Kills a server with SIGKILL at a random moment while load runs against it, and tells the load which
/// failures that explains: only the retryable ones seen after the kill began.
/// </summary>
internal sealed class RandomKill(ServerProcess server)
{
    private volatile bool _begun;

    /// <summary>Waits 50 to 500 ms (drawn from <paramref name="random"/>), then kills the server; returns the wait in ms.</summary>
    public async Task<int> KillAfterRandomDelayAsync(Random random)
    {
        var delay = random.Next(50, 501);
        await Task.Delay(delay);
        _begun = true;
        await server.KillAsync();
        return delay;
    }

    /// <summary>True when <paramref name="failure"/> is what a caller sees of the kill ("Network connection lost.").</summary>
    public bool Explains(DurableObjectException failure) => _begun && failure.Retryable;
}
