using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace SourceGenDO.Load.Orleans;

/// <summary>
/// The <c>first-call</c> scenario: started before the server, it keeps trying to connect and make one
/// <c>Increment(1)</c>, 5 ms apart, and prints the wall-clock time of the first success. The coordinator subtracts
/// the server's start time to get time-to-first-call.
/// </summary>
internal static class FirstCallProbe
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(int gatewayPort)
    {
        using var giveUp = new CancellationTokenSource(GiveUpAfter);
        using var host = ClientRole.BuildHost(gatewayPort, client =>
        {
            client.UseConnectionRetryFilter(new RetryAfterDelay(RetryDelay));

            // After a failed attempt Orleans refuses to redial the same endpoint for ConnectionRetryDelay (1 s by
            // default), which would round the measured time up to whole seconds.
            client.Configure<ConnectionOptions>(o => o.ConnectionRetryDelay = RetryDelay);

            // Every refused attempt would log a warning with a stack trace, hundreds of them, competing for the
            // CPU with the silo that is booting on the same machine.
            client.Services.AddLogging(l => l.AddFilter("Orleans.Runtime.Messaging.ConnectionManager", LogLevel.Error));
        });

        long firstCallUnixMs;
        try
        {
            await host.StartAsync(giveUp.Token);
            var grain = host.Services.GetRequiredService<IClusterClient>().GetGrain<ICounterGrain>("counter-0");
            while (true)
            {
                try
                {
                    await grain.Increment(1).WaitAsync(giveUp.Token);
                    firstCallUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                    break;
                }
                catch (Exception) when (!giveUp.IsCancellationRequested)
                {
                    // Connected, but the silo could not serve the call yet (it may still be starting).
                    await Task.Delay(RetryDelay, giveUp.Token);
                }
            }
        }
        catch (Exception e) when (giveUp.IsCancellationRequested)
        {
            Console.Error.WriteLine(
                $"error: no call to the Orleans gateway at localhost:{gatewayPort} succeeded within {GiveUpAfter.TotalSeconds} s: {e.Message}");
            return 1;
        }

        ResultJsonContext.WriteLine(new FirstCallResult(ClientRole.SystemName, "first-call", firstCallUnixMs));
        await host.StopAsync();
        return 0;
    }

    /// <summary>Retries a failed connection to the cluster after a fixed delay, until the start is cancelled.</summary>
    private sealed class RetryAfterDelay(TimeSpan delay) : IClientConnectionRetryFilter
    {
        public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
        {
            await Task.Delay(delay, cancellationToken);
            return true;
        }
    }
}
