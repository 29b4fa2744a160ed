using System.Diagnostics;
using Xunit.Abstractions;
using SourceGenDO.Tests.Shared;

namespace SourceGenDO.EndToEnd.Tests.Durability;

/// <summary>
/// Writes an object makes with no await between them become durable together or not at all, also when
/// the server is killed with SIGKILL in the middle of committing them.
/// </summary>
public sealed class CrashAtomicityTests(ITestOutputHelper output)
{
    private const int Kills = 8;
    private const int Objects = 8;
    private const int Clients = 2;
    private const int StubsPerObjectPerClient = 2;
    private const int CallsInFlightPerStub = 8;

    [Fact]
    public async Task TwoKeysWrittenWithNoAwaitBetweenThemAlwaysAgreeAfterAKill()
    {
        var seed = Random.Shared.Next();
        var random = new Random(seed);
        output.WriteLine($"seed {seed}");
        using var directory = new TemporaryDataDirectory();
        var ledgers = Enumerable.Range(0, Objects).Select(i => new PairLedger($"pair-{i}")).ToArray();
        long nextValue = 0;
        var elapsed = Stopwatch.StartNew();

        for (var round = 0; round <= Kills; round++)
        {
            await using var server = await ServerProcess.StartOverAsync(directory.Path);
            var clients = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => server.ConnectAsync()));
            try
            {
                var stores = clients[0].GetNamespace<StoreStub>("STORES");
                foreach (var ledger in ledgers)
                {
                    var pair = await stores.GetByName(ledger.Name).ReadPair();
                    ledger.CheckAfterRestart(pair[0], pair[1], $"after {round} kills (seed {seed})");
                }
                if (round == Kills)
                {
                    break;
                }

                var kill = new RandomKill(server);
                var load = (
                    from client in clients
                    from ledger in ledgers
                    from stub in Enumerable.Range(0, StubsPerObjectPerClient).Select(_ => client.GetNamespace<StoreStub>("STORES").GetByName(ledger.Name))
                    from call in Enumerable.Range(0, CallsInFlightPerStub)
                    select WritePairsUntilTheServerDiesAsync(stub, ledger, kill, () => Interlocked.Increment(ref nextValue))).ToArray();
                var delay = await kill.KillAfterRandomDelayAsync(random);
                await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30));
                output.WriteLine($"kill {round + 1} after {delay} ms");
            }
            catch (Exception) when (Dump(server))
            {
                throw;
            }
            finally
            {
                foreach (var client in clients)
                {
                    await client.DisposeAsync();
                }
            }
        }

        var acknowledged = ledgers.Sum(l => l.Acknowledged);
        output.WriteLine($"{Kills} kills, {acknowledged} acknowledged pairs, all agreeing, in {elapsed.Elapsed.TotalSeconds:F1} s");
        Assert.True(acknowledged > Kills * Objects, $"Only {acknowledged} pairs were acknowledged: the kills did not find the server under load.");
    }

    /// <summary>Writes pairs of fresh values until the call fails because the server was killed.</summary>
    private static async Task WritePairsUntilTheServerDiesAsync(StoreStub stub, PairLedger ledger, RandomKill kill, Func<long> nextValue)
    {
        await Task.Yield();
        while (true)
        {
            var value = nextValue();
            ledger.Issue(value);
            try
            {
                await stub.WritePair(value);
            }
            catch (DurableObjectException failure) when (kill.Explains(failure))
            {
                return;
            }
            ledger.Acknowledge();
        }
    }

    private bool Dump(ServerProcess server)
    {
        output.WriteLine("server output:" + Environment.NewLine + server.Output);
        return false;
    }
}
