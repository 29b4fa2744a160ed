namespace SourceGenDO;

/// <summary>What the runtime gives one durable object instance: its id, and the services of its host.</summary>
public sealed class DurableObjectState
{
    /// <summary>Creates the state of the instance <paramref name="id"/>; hosts and unit tests call this.</summary>
    public DurableObjectState(DurableObjectId id, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        Id = id;
        Services = services ?? EmptyServiceProvider.Instance;
    }

    /// <summary>The instance's id; <see cref="DurableObjectId.Name"/> is set when it was derived from a name.</summary>
    public DurableObjectId Id { get; }

    /// <summary>The host's services, for objects that resolve dependencies themselves.</summary>
    public IServiceProvider Services { get; }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
