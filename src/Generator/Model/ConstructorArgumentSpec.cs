namespace SourceGenDO.Generator.Model;

/// <summary>How the dispatcher obtains one argument of the durable object's constructor.</summary>
/// <remarks>Equality contract: value equality over both members.</remarks>
/// <param name="Kind">Where the argument comes from.</param>
/// <param name="TypeName">
/// For <see cref="ConstructorArgumentKind.Namespace"/>, the stub type argument; for
/// <see cref="ConstructorArgumentKind.Service"/>, the service type; otherwise null.
/// </param>
internal sealed record ConstructorArgumentSpec(ConstructorArgumentKind Kind, string? TypeName);

/// <summary>Where a constructor argument of a durable object comes from.</summary>
internal enum ConstructorArgumentKind
{
    /// <summary>The instance's <c>DurableObjectState</c>.</summary>
    State,

    /// <summary>The host's <c>IServiceProvider</c> (<c>state.Services</c>).</summary>
    Services,

    /// <summary>A <c>DurableObjectNamespace&lt;TStub&gt;</c> from <c>ConstructorServices.GetNamespace</c>.</summary>
    Namespace,

    /// <summary>Any other type, from <c>ConstructorServices.GetRequired</c>.</summary>
    Service,
}
