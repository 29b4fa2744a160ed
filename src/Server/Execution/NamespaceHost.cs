using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SourceGenDO.Dispatch;
using SourceGenDO.Ids;
using SourceGenDO.Server.Http;

namespace SourceGenDO.Server.Execution;

/// <summary>The live instances of one namespace, created on their first event and evicted when idle.</summary>
internal sealed class NamespaceHost
{
    private readonly ConcurrentDictionary<DurableObjectId, ObjectActivation> _activations = new();
    // Activations gone (evicted or reset) whose commits are still in flight: the next activation of the
    // same object reads the backend only after they finished. An entry leaves when its commits have.
    private readonly ConcurrentDictionary<DurableObjectId, Task> _settling = new();

    public NamespaceHost(
        string name, DurableObjectDispatcher dispatcher, NamespaceIdKey key, DurableObjectsOptions options,
        IServiceProvider services, TimeProvider time, ILogger logger, StorageContext storage)
    {
        Storage = storage;
        Name = name;
        Dispatcher = dispatcher;
        Key = key;
        Options = options;
        Services = services;
        Time = time;
        Sockets = new NamespaceSockets(IsLive);
        Logger = logger;
    }

    public string Name { get; }

    public DurableObjectDispatcher Dispatcher { get; }

    public NamespaceIdKey Key { get; }

    public DurableObjectsOptions Options { get; }

    public IServiceProvider Services { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public StorageContext Storage { get; }

    public int ActivationCount => _activations.Count;

    /// <summary>The events in progress or queued at every live activation (enumerating takes no lock).</summary>
    public long EventCount => _activations.Sum(static pair => (long)pair.Value.EventCount);

    /// <summary>The accepted WebSockets of the namespace's objects, kept while their instances hibernate.</summary>
    public NamespaceSockets Sockets { get; }

    /// <summary>Accepts one event for <paramref name="id"/>, activating the object if it is not live (see <see cref="ObjectActivation.TryEnter"/>).</summary>
    public EnterResult TryEnter(DurableObjectId id, out ObjectActivation activation, bool pastLimit = false)
    {
        while (true)
        {
            activation = _activations.GetOrAdd(id, static (id, host) => host.Activate(id), this);
            var result = activation.TryEnter(pastLimit);
            if (result != EnterResult.Deactivated)
            {
                return result;
            }
            // Evicted between the lookup and the enter: its entry is being removed; make a new one.
            _activations.TryRemove(new KeyValuePair<DurableObjectId, ObjectActivation>(id, activation));
        }
    }

    private ObjectActivation Activate(DurableObjectId id) =>
        new(this, id, _settling.TryGetValue(id, out var predecessor) ? predecessor : Task.CompletedTask);

    /// <summary>Takes a reset activation out, so that the next event of its object gets a new one.</summary>
    public void Retire(ObjectActivation activation)
    {
        WaitForCommits(activation);
        _activations.TryRemove(new KeyValuePair<DurableObjectId, ObjectActivation>(activation.Id, activation));
        Sockets.Forget(activation.Id);
    }

    private void WaitForCommits(ObjectActivation activation)
    {
        var settled = activation.WhenSettled;
        if (settled.IsCompleted)
        {
            return;
        }
        _settling[activation.Id] = settled;
        settled.ContinueWith(
            (_, state) => _settling.TryRemove(new KeyValuePair<DurableObjectId, Task>(((ObjectActivation)state!).Id, settled)),
            activation, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The events in progress or queued at the live activation of <paramref name="id"/>; for tests.</summary>
    internal int EventsOf(DurableObjectId id) => _activations.TryGetValue(id, out var activation) ? activation.EventCount : 0;

    /// <summary>True when <paramref name="id"/> has a live activation; for tests.</summary>
    internal bool IsLive(DurableObjectId id) => _activations.ContainsKey(id);

    /// <summary>True when no activation has an event in progress or a write not yet durable.</summary>
    public bool IsQuiet => _activations.Values.All(static activation => activation.IsQuiet);

    /// <summary>Runs the alarm handler of <paramref name="id"/> as an event; the task faults when the handler threw.</summary>
    public Task RunAlarmAsync(DurableObjectId id, AlarmInfo info) => RunAlarmEvent(id, info, info.ScheduledTime);

    /// <summary>Deletes the alarm of <paramref name="id"/> if it is still set for <paramref name="scheduledTime"/>.</summary>
    public Task ClearAlarmAsync(DurableObjectId id, DateTimeOffset scheduledTime) => RunAlarmEvent(id, null, scheduledTime);

    private Task RunAlarmEvent(DurableObjectId id, AlarmInfo? info, DateTimeOffset scheduledTime)
    {
        if (TryEnter(id, out var activation) != EnterResult.Entered)
        {
            return Task.FromException(new DurableObjectException(RemoteErrors.OverloadedMessage) { Overloaded = true, DurableObjectId = id });
        }
        var alarm = new AlarmEvent(activation, id, info, scheduledTime);
        activation.Scheduler.PostEvent(AlarmEvent.Start, alarm);
        return alarm.Completion;
    }

    /// <summary>Evicts every activation that has been idle for the configured time.</summary>
    public void EvictIdle()
    {
        foreach (var (id, activation) in _activations)
        {
            if (!Options.HibernateWebSockets && Sockets.HasOpenSockets(id))
            {
                continue;
            }
            if (activation.TryDeactivateIfIdle(Options.IdleTimeout))
            {
                WaitForCommits(activation);
                _activations.TryRemove(new KeyValuePair<DurableObjectId, ObjectActivation>(id, activation));
                Sockets.Forget(id);
                Logger.LogDebug("Evicted idle durable object {Namespace}/{Id}.", Name, id);
            }
        }
    }
}
