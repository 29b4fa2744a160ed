namespace SourceGenDO.Serialization;

/// <summary>The protobuf wire types the SourceGenDO encoding uses.</summary>
public enum WireType
{
    /// <summary>A base-128 varint: integers, bools and enums.</summary>
    Varint = 0,
    /// <summary>Eight little-endian bytes: <see cref="double"/>.</summary>
    Fixed64 = 1,
    /// <summary>A varint length followed by that many bytes: strings, bytes and nested messages.</summary>
    LengthDelimited = 2,
    /// <summary>Four little-endian bytes: <see cref="float"/>.</summary>
    Fixed32 = 5,
}
