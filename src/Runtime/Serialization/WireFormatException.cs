namespace SourceGenDO.Serialization;

/// <summary>A serialized payload does not follow the SourceGenDO wire format.</summary>
public sealed class WireFormatException : FormatException
{
    /// <summary>Creates the exception with a message that says what was malformed.</summary>
    public WireFormatException(string message) : base(message)
    {
    }
}
