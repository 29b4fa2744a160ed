namespace SourceGenDO.Server.Security;

/// <summary>What one Connect stream's credential grants: the channels it may open.</summary>
internal sealed class StreamAccess(AccessGate gate, AccessGrant grant, string peer)
{
    public AccessGrant Grant => grant;

    /// <summary>
    /// Null when the stream may open a channel on <paramref name="namespace"/>; else the channel's error. A scoped
    /// token is told the same for a namespace that does not exist, so it learns nothing of the others.
    /// </summary>
    public string? Refusal(string @namespace) =>
        grant.IsScoped && @namespace.Length > 0 ? gate.RefuseChannel(grant, @namespace, peer) : null;
}
