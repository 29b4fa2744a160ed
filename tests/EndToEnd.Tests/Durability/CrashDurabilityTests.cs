using System.Diagnostics;
using Xunit.Abstractions;
using SourceGenDO.Tests.Shared;

namespace SourceGenDO.EndToEnd.Tests.Durability;

/// <summary>
/// A server killed with SIGKILL at random moments under load loses no acknowledged write: the output
/// gate releases a result only once its write is on disk, so whatever a caller saw survives the crash.
/// </summary>
public sealed class CrashDurabilityTests(ITestOutputHelper output)
{
    private const int Kills = 20;
    private const int Objects = 16;
    // Two clients (two streams), two stubs per object on each, eight calls in flight per stub:
    // 512 increments in flight, so a kill finds writes at every stage between a call and its commit.
    private const int Clients = 2;
    private const int StubsPerObjectPerClient = 2;
    private const int CallsInFlightPerStub = 8;

    [Fact]
    public async Task NoAcknowledgedIncrementIsLostWhenTheServerIsKilledAtRandomMoments()
    {
        var seed = Random.Shared.Next();
        var random = new Random(seed);
        output.WriteLine($"seed {seed}");
        using var directory = new TemporaryDataDirectory();
        var ledgers = Enumerable.Range(0, Objects).Select(i => new IncrementLedger($"store-{i}")).ToArray();
        var elapsed = Stopwatch.StartNew();
        var starting = new Stopwatch();

        for (var round = 0; round <= Kills; round++)
        {
            starting.Start();
            await using var server = await ServerProcess.StartOverAsync(directory.Path);
            starting.Stop();
            var clients = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => server.ConnectAsync()));
            try
            {
                var stores = clients[0].GetNamespace<StoreStub>("STORES");
                foreach (var ledger in ledgers)
                {
                    // Adding zero reads the value the restarted server recovered.
                    var recovered = await stores.GetByName(ledger.Name).Increment(0);
                    ledger.CheckAfterRestart(recovered, $"after {round} kills (seed {seed})");
                    if (round == Kills)
                    {
                        // The recovered counter goes on counting from where it was.
                        ledger.Issue();
                        var next = await stores.GetByName(ledger.Name).Increment(1);
                        Assert.Equal(recovered + 1, next);
                        ledger.Acknowledge(next);
                    }
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
                    select IncrementUntilTheServerDiesAsync(stub, ledger, kill)).ToArray();
                var delay = await kill.KillAfterRandomDelayAsync(random);
                await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30));
                output.WriteLine($"kill {round + 1} after {delay} ms; floors {string.Join(' ', ledgers.Select(l => l.Floor))}");
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
        output.WriteLine($"{Kills} kills, {acknowledged} acknowledged increments, none lost, in {elapsed.Elapsed.TotalSeconds:F1} s ({starting.Elapsed.TotalSeconds:F1} s of it starting servers)");
        Assert.True(acknowledged > Kills * Objects, $"Only {acknowledged} increments were acknowledged: the kills did not find the server under load.");
    }

    /// <summary>Increments until the call fails because the server was killed, noting every acknowledged value.</summary>
    private static async Task IncrementUntilTheServerDiesAsync(StoreStub stub, IncrementLedger ledger, RandomKill kill)
    {
        await Task.Yield();
        while (true)
        {
            ledger.Issue();
            long value;
            try
            {
                value = await stub.Increment(1);
            }
            catch (DurableObjectException failure) when (kill.Explains(failure))
            {
                return;
            }
            ledger.Acknowledge(value);
        }
    }

    private bool Dump(ServerProcess server)
    {
        output.WriteLine("server output:" + Environment.NewLine + server.Output);
        return false;
    }
}
