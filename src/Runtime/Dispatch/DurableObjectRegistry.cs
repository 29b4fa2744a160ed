using System.Collections.Concurrent;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace SourceGenDO.Dispatch;

/// <summary>
/// The dispatchers of every durable object class in the loaded assemblies. Generated module
/// initializers register them, so a host finds a class's dispatcher without reflection.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DurableObjectRegistry
{
    private static readonly ConcurrentDictionary<Type, DurableObjectDispatcher> Dispatchers = new();

    /// <summary>Registers the dispatcher of one class; generated code calls this.</summary>
    public static void Register(DurableObjectDispatcher dispatcher)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        Dispatchers[dispatcher.ObjectType] = dispatcher;
    }

    /// <summary>The generated dispatcher of <typeparamref name="TObject"/>.</summary>
    /// <exception cref="InvalidOperationException">No dispatcher was generated for the class.</exception>
    public static DurableObjectDispatcher Get<TObject>() where TObject : DurableObject
    {
        // The generated registration is a module initializer of the class's assembly, which the runtime
        // runs on first use of that module; running it here makes the lookup independent of load order.
        RuntimeHelpers.RunModuleConstructor(typeof(TObject).Module.ModuleHandle);
        return Dispatchers.TryGetValue(typeof(TObject), out var dispatcher)
            ? dispatcher
            : throw new InvalidOperationException(
                $"No dispatcher was generated for '{typeof(TObject).FullName}'. Reference SourceGenDO.Runtime from the project that defines the class, so that its source generator runs, and make the class public or internal and non-generic.");
    }
}
