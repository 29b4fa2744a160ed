using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// Opens storage and runs the alarms while the host runs. On stop it waits (up to the shutdown grace
/// period) until no event is in progress and every write is durable, then drains the committer, so a
/// stopping server loses nothing it acknowledged and leaves nothing half written.
/// </summary>
internal sealed class StorageLifetime : IHostedService
{
    private static readonly TimeSpan QuietPoll = TimeSpan.FromMilliseconds(20);

    private readonly StorageService _storage;
    private readonly DurableObjectHost _objects;
    private readonly TimeProvider _time;
    private readonly DurableObjectsOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private Task _alarmLoop = Task.CompletedTask;

    public StorageLifetime(StorageService storage, DurableObjectHost objects, TimeProvider time, IOptions<DurableObjectsOptions> options)
    {
        _storage = storage;
        _objects = objects;
        _time = time;
        _options = options.Value;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var alarms = new AlarmScheduler(_objects, _storage.Backend, _time, _storage.Logger);
        await _storage.OpenAsync(alarms, cancellationToken).ConfigureAwait(false);
        _alarmLoop = Task.Run(() => alarms.RunAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        var deadline = _time.GetTimestamp();
        while (!_objects.Namespaces.All(static ns => ns.IsQuiet)
            && _time.GetElapsedTime(deadline) < _options.ShutdownGracePeriod
            && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(QuietPoll, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        if (!_objects.Namespaces.All(static ns => ns.IsQuiet))
        {
            _storage.Logger.LogWarning("The server stopped with durable object events still running after the grace period; their writes not yet committed are lost, and their callers were not answered.");
        }
        await _storage.StopAsync().ConfigureAwait(false);
        try
        {
            await _alarmLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
