using SourceGenDO.Diagnostics;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// One run of an object's <c>Alarm</c> handler, delivered as an event like a call (it waits at the input
/// gate, and counts toward the object's queue bound). When the handler succeeds the alarm is deleted,
/// unless the handler set another.
/// </summary>
internal sealed class AlarmEvent
{
    public static readonly SendOrPostCallback Start = static state => _ = ((AlarmEvent)state!).RunAsync();

    private readonly ObjectActivation _activation;
    private readonly DurableObjectId _id;
    private readonly AlarmInfo? _info;
    private readonly DateTimeOffset _scheduledTime;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>An event that runs the handler with <paramref name="info"/>, or, when null, only drops the alarm set for <paramref name="scheduledTime"/>.</summary>
    /// <param name="activation">The object's activation, perhaps made by a call from an id without its name.</param>
    /// <param name="id">The id the alarm is for, with the name stored with it when there is one.</param>
    /// <param name="info">The handler's argument.</param>
    /// <param name="scheduledTime">The alarm's time.</param>
    public AlarmEvent(ObjectActivation activation, DurableObjectId id, AlarmInfo? info, DateTimeOffset scheduledTime)
    {
        _activation = activation;
        _id = id;
        _info = info;
        _scheduledTime = scheduledTime;
    }

    public Task Completion => _done.Task;

    private async Task RunAsync()
    {
        System.Diagnostics.Activity? span = null;
        try
        {
            // Before the instance is made, so that its constructor sees the name too.
            _activation.LearnName(_id);
            if (_activation.BeginEvent(Start, this) is not { } instance)
            {
                return;
            }
            span = _info is null ? null : EventTelemetry.StartAlarm(_activation.Namespace, _activation.Id, _info);
            var storage = _activation.Storage;
            // The scheduler read the alarm a moment ago; the object may have deleted or moved it since.
            if (_info is not null && await storage.GetAlarmAsync().ConfigureAwait(true) is { } set && SameTime(set, _scheduledTime))
            {
                await instance.Alarm(_info).ConfigureAwait(true);
            }
            if (await storage.GetAlarmAsync().ConfigureAwait(true) is { } current && SameTime(current, _scheduledTime))
            {
                storage.SetAlarm(null);
            }
            // Done only once the deletion is durable: the scheduler must not find the alarm still stored.
            await storage.SyncAsync().ConfigureAwait(true);
            EventTelemetry.End(span, null);
            _activation.Exit();
            _done.TrySetResult();
        }
        catch (Exception e)
        {
            EventTelemetry.End(span, e);
            _activation.Exit();
            _done.TrySetException(e);
        }
    }

    // Backends may keep alarm times to the millisecond.
    private static bool SameTime(DateTimeOffset a, DateTimeOffset b) => Math.Abs((a - b).Ticks) < TimeSpan.TicksPerMillisecond;
}
