using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SourceGenDO.Server.Storage.Sqlite;

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
    private readonly IConfiguration? _configuration;
    private readonly CancellationTokenSource _stopping = new();
    private Task _alarmLoop = Task.CompletedTask;

    public StorageLifetime(StorageService storage, DurableObjectHost objects, TimeProvider time, IOptions<DurableObjectsOptions> options, IConfiguration? configuration = null)
    {
        _configuration = configuration;
        _storage = storage;
        _objects = objects;
        _time = time;
        _options = options.Value;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var alarms = new AlarmScheduler(_objects, _storage.Backend, _time, _storage.Logger);
        await _storage.OpenAsync(alarms, cancellationToken).ConfigureAwait(false);
        if (_storage.Backend is SqliteStorageBackend sqlite
            && Path.GetDirectoryName(sqlite.DatabasePath) is { } directory
            && WatchedDataDirectory.WatchingRoot(_configuration, directory) is { } watched)
        {
            _storage.Logger.LogWarning(
                "The durable object data directory {DataDirectory} lies inside {ContentRoot}, which the host's configuration watches for changes with every subdirectory: each commit wakes the file watcher, which costs the storage path about a third of its speed with one caller. " +
                "Set DurableObjectsOptions.DataDirectory to a directory outside it, or turn the reload off (the setting hostBuilder:reloadConfigOnChange=false, for example the environment variable DOTNET_hostBuilder__reloadConfigOnChange=false).",
                directory, watched);
        }
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
