using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SourceGenDO.Server.Storage;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// Runs the <c>Alarm</c> handlers of every object whose alarm is due, from the backend's alarms, so an
/// alarm fires at least once also after a restart or on an evicted instance. One handler per object runs
/// at a time; a handler that throws is retried with exponential backoff (2 s, 4 s, ... at most
/// <see cref="AlarmInfo.MaxRetries"/> retries). The alarm is deleted only once its handler succeeded (or
/// ran out of retries), and only if the handler did not set another: a crash in between runs it again.
/// </summary>
internal sealed class AlarmScheduler
{
    // The most due alarms read per look at the backend.
    private const int DueBatch = 1_000;

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(2);

    // How often the loop looks again while due alarms are running or backing off.
    private static readonly TimeSpan BusyPoll = TimeSpan.FromMilliseconds(250);

    private readonly DurableObjectHost _objects;
    private readonly IStorageBackend _backend;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // Objects whose handler is running, or waiting to retry: the time and retry count of the next attempt.
    private readonly ConcurrentDictionary<ObjectAddress, Attempt> _attempts = new();
    private readonly HashSet<string> _unknownNamespaces = new(StringComparer.Ordinal);
    private TaskCompletionSource _wake = NewSignal();

    public AlarmScheduler(DurableObjectHost objects, IStorageBackend backend, TimeProvider time, ILogger logger)
    {
        _objects = objects;
        _backend = backend;
        _time = time;
        _logger = logger;
    }

    /// <summary>Told after a commit set or deleted an alarm: the loop looks again at once.</summary>
    public void AlarmChanged() => Volatile.Read(ref _wake).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Fires due alarms until <paramref name="stopping"/> is canceled.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            // Taken before the look, so that a change made during it wakes the wait below at once.
            var wake = Volatile.Read(ref _wake);
            TimeSpan wait;
            try
            {
                wait = await FireDueAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Reading the due alarms failed; trying again in a second.");
                wait = TimeSpan.FromSeconds(1);
            }
            try
            {
                await wake.Task.WaitAsync(wait, _time, stopping).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            Interlocked.CompareExchange(ref _wake, NewSignal(), wake);
        }
    }

    /// <summary>Starts the handlers of due alarms; returns how long to wait before the next look.</summary>
    private async Task<TimeSpan> FireDueAsync(CancellationToken stopping)
    {
        var now = _time.GetUtcNow();
        var due = await _backend.GetAlarmsAsync(now, DueBatch, stopping).ConfigureAwait(false);
        var busy = false;
        foreach (var alarm in due)
        {
            if (_attempts.TryGetValue(alarm.Address, out var attempt))
            {
                if (attempt.Running || attempt.NotBefore > now)
                {
                    busy |= attempt.NotBefore != DateTimeOffset.MaxValue;
                    continue;
                }
                Start(alarm, attempt.RetryCount);
            }
            else
            {
                Start(alarm, 0);
            }
            busy = true;
        }
        if (due.Count == DueBatch)
        {
            return TimeSpan.Zero;
        }
        var next = await _backend.GetNextAlarmTimeAsync(stopping).ConfigureAwait(false);
        if (next is not { } time)
        {
            return busy ? BusyPoll : Timeout.InfiniteTimeSpan;
        }
        // Everything due was started or skipped above; an earliest alarm in the past is one of those
        // (running, backing off, or of a namespace this server does not host), so look again shortly.
        var untilNext = time - _time.GetUtcNow();
        return untilNext <= TimeSpan.Zero || (busy && untilNext > BusyPoll) ? BusyPoll : untilNext;
    }

    private void Start(StoredAlarm alarm, int retryCount)
    {
        if (!_objects.TryGetNamespace(alarm.Address.Namespace, out var host))
        {
            if (_unknownNamespaces.Add(alarm.Address.Namespace))
            {
                _logger.LogWarning("An alarm is stored for namespace {Namespace}, which this server does not host; it stays until a server hosting it runs.", alarm.Address.Namespace);
            }
            _attempts[alarm.Address] = new Attempt(false, DateTimeOffset.MaxValue, retryCount);
            return;
        }
        DurableObjectId id;
        try
        {
            id = host.Key.Parse(alarm.Address.Id);
        }
        catch (ArgumentException e)
        {
            _logger.LogWarning("An alarm is stored for {Address}, which is not an id of that namespace ({Reason}); it is left alone.", alarm.Address, e.Message);
            _attempts[alarm.Address] = new Attempt(false, DateTimeOffset.MaxValue, retryCount);
            return;
        }
        if (alarm.Name is { } name && host.Key.IsNameOf(name, id))
        {
            id = id.WithName(name);
        }
        _attempts[alarm.Address] = new Attempt(true, DateTimeOffset.MaxValue, retryCount);
        _ = RunHandlerAsync(host, id, alarm, retryCount);
    }

    private async Task RunHandlerAsync(NamespaceHost host, DurableObjectId id, StoredAlarm alarm, int retryCount)
    {
        Exception? failure = null;
        try
        {
            await host.RunAlarmAsync(id, new AlarmInfo(retryCount, alarm.Time)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        if (failure is null)
        {
            _attempts.TryRemove(alarm.Address, out _);
            AlarmChanged();
            return;
        }
        if (retryCount >= AlarmInfo.MaxRetries)
        {
            _logger.LogError(failure, "The alarm handler of {Namespace}/{Id} failed {Attempts} times; the alarm is dropped.", host.Name, id, retryCount + 1);
            try
            {
                await host.ClearAlarmAsync(id, alarm.Time).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Dropping the failed alarm of {Namespace}/{Id} failed; it will run again.", host.Name, id);
            }
            _attempts.TryRemove(alarm.Address, out _);
            return;
        }
        var delay = FirstRetryDelay * Math.Pow(2, retryCount);
        _logger.LogWarning(failure, "The alarm handler of {Namespace}/{Id} threw; retry {Retry} in {Delay}.", host.Name, id, retryCount + 1, delay);
        _attempts[alarm.Address] = new Attempt(false, _time.GetUtcNow() + delay, retryCount + 1);
        AlarmChanged();
    }

    private readonly record struct Attempt(bool Running, DateTimeOffset NotBefore, int RetryCount);
}
