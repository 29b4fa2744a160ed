using System.ComponentModel;

namespace SourceGenDO;

/// <summary>What a generated stub is built over: the object it calls and the connection to it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class StubContext
{
    internal StubContext(StubChannel channel) => Channel = channel;

    internal StubChannel Channel { get; }
}
