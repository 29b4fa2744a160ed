using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace SourceGenDO.Server.Execution;

/// <summary>Evicts idle instances from memory on a timer; their storage stays.</summary>
internal sealed class EvictionService : BackgroundService
{
    private readonly DurableObjectHost _host;
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;

    public EvictionService(DurableObjectHost host, TimeProvider time, IOptions<DurableObjectsOptions> options)
    {
        _host = host;
        _time = time;
        // Checking a few times per idle period keeps eviction close to the configured time.
        var idle = options.Value.IdleTimeout;
        _period = idle <= TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(25) : TimeSpan.FromTicks(Math.Min(idle.Ticks / 4, TimeSpan.TicksPerSecond));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                foreach (var ns in _host.Namespaces)
                {
                    ns.EvictIdle();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
