namespace SourceGenDO;

/// <summary>The request headers that bind a stub's stream to its object (protos/sourcegendo.proto).</summary>
internal static class StreamHeaders
{
    public const string Namespace = "sgdo-namespace";
    public const string Id = "sgdo-id";
    public const string NameBinary = "sgdo-name-bin";
}
