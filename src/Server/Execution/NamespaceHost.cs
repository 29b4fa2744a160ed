using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SourceGenDO.Dispatch;
using SourceGenDO.Ids;

namespace SourceGenDO.Server.Execution;

/// <summary>The live instances of one namespace, created on their first event and evicted when idle.</summary>
internal sealed class NamespaceHost
{
    private readonly ConcurrentDictionary<DurableObjectId, ObjectActivation> _activations = new();

    public NamespaceHost(
        string name, DurableObjectDispatcher dispatcher, NamespaceIdKey key, DurableObjectsOptions options,
        IServiceProvider services, TimeProvider time, ILogger logger)
    {
        Name = name;
        Dispatcher = dispatcher;
        Key = key;
        Options = options;
        Services = services;
        Time = time;
        Logger = logger;
    }

    public string Name { get; }

    public DurableObjectDispatcher Dispatcher { get; }

    public NamespaceIdKey Key { get; }

    public DurableObjectsOptions Options { get; }

    public IServiceProvider Services { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public int ActivationCount => _activations.Count;

    /// <summary>Accepts one event for <paramref name="id"/>, activating the object if it is not live.</summary>
    public EnterResult TryEnter(DurableObjectId id, out ObjectActivation activation)
    {
        while (true)
        {
            activation = _activations.GetOrAdd(id, static (id, host) => new ObjectActivation(host, id), this);
            var result = activation.TryEnter();
            if (result != EnterResult.Deactivated)
            {
                return result;
            }
            // Evicted between the lookup and the enter: its entry is being removed; make a new one.
            _activations.TryRemove(new KeyValuePair<DurableObjectId, ObjectActivation>(id, activation));
        }
    }

    /// <summary>Evicts every activation that has been idle for the configured time.</summary>
    public void EvictIdle()
    {
        foreach (var (id, activation) in _activations)
        {
            if (activation.TryDeactivateIfIdle(Options.IdleTimeout))
            {
                _activations.TryRemove(new KeyValuePair<DurableObjectId, ObjectActivation>(id, activation));
                Logger.LogDebug("Evicted idle durable object {Namespace}/{Id}.", Name, id);
            }
        }
    }
}
