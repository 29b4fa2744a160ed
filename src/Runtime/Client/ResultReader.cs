using System.ComponentModel;
using SourceGenDO.Serialization;

namespace SourceGenDO;

/// <summary>Decodes an encoded result; generated stubs pass one per method.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate T ResultReader<out T>(ref WireReader reader);
