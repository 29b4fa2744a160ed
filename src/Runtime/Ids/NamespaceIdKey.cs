using System.Security.Cryptography;
using System.Text;

namespace SourceGenDO.Ids;

/// <summary>
/// Derives, parses and checks the ids of one namespace from its 32-byte key. Client and server share
/// this code, so an id made on one side is valid on the other.
/// </summary>
internal sealed class NamespaceIdKey
{
    /// <summary>The message of an id that is not 64 hex digits.</summary>
    public const string InvalidHexMessage = "Invalid Durable Object ID: must be 64 hex digits";

    /// <summary>The message of an id whose MAC is not this namespace's.</summary>
    public const string ForeignIdMessage = "Durable Object ID is not valid for this namespace.";

    private const int HalfLength = DurableObjectId.ByteLength / 2;

    /// <summary>The key of <see cref="DurableObjectId.ForTesting"/>: public knowledge, so no server uses it.</summary>
    public static readonly NamespaceIdKey Testing = new("sgdo/testing/not-a-secret-key!!"u8);

    // Two sub-keys, so that the name hash and the MAC can never be confused with each other.
    private readonly byte[] _nameKey;
    private readonly byte[] _macKey;

    public NamespaceIdKey(ReadOnlySpan<byte> key)
    {
        if (key.Length < 16)
        {
            throw new ArgumentException("A namespace key must be at least 16 bytes.", nameof(key));
        }
        Key = key.ToArray();
        _nameKey = HMACSHA256.HashData(key, "sgdo/id-name"u8);
        _macKey = HMACSHA256.HashData(key, "sgdo/id-mac"u8);
    }

    /// <summary>The namespace key itself, as sent to clients in the handshake.</summary>
    public byte[] Key { get; }

    public DurableObjectId FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var bytes = new byte[DurableObjectId.ByteLength];
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_nameKey, nameBytes, hash);
        hash[..HalfLength].CopyTo(bytes);
        Seal(bytes);
        return new DurableObjectId(bytes, nameBytes.Length <= DurableObjectId.MaxNameBytes ? name : null);
    }

    public DurableObjectId NewUnique()
    {
        var bytes = new byte[DurableObjectId.ByteLength];
        RandomNumberGenerator.Fill(bytes.AsSpan(0, HalfLength));
        Seal(bytes);
        return new DurableObjectId(bytes, null);
    }

    /// <summary>Parses 64 hex digits into an id of this namespace.</summary>
    /// <exception cref="ArgumentException">
    /// The text is not 64 hex digits, or its MAC is not this namespace's. The message is exactly SPEC.md's:
    /// no parameter name is given, since <see cref="ArgumentException.Message"/> would append it.
    /// </exception>
    public DurableObjectId Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != DurableObjectId.ByteLength * 2 || !IsHex(hex))
        {
            throw new ArgumentException(InvalidHexMessage);
        }
        var bytes = Convert.FromHexString(hex);
        if (!HasValidMac(bytes))
        {
            throw new ArgumentException(ForeignIdMessage);
        }
        return new DurableObjectId(bytes, null);
    }

    /// <summary>True when the id's MAC was made with this namespace's key.</summary>
    public bool Owns(DurableObjectId id) => HasValidMac(id.Bytes);

    /// <summary>True when <paramref name="name"/> is the name <paramref name="id"/> was derived from.</summary>
    public bool IsNameOf(string name, DurableObjectId id)
    {
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_nameKey, Encoding.UTF8.GetBytes(name), hash);
        return DurableObjectId.FixedTimeEquals(hash[..HalfLength], id.Bytes[..HalfLength]);
    }

    private void Seal(byte[] bytes)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_macKey, bytes.AsSpan(0, HalfLength), mac);
        mac[..HalfLength].CopyTo(bytes.AsSpan(HalfLength));
    }

    private bool HasValidMac(ReadOnlySpan<byte> bytes)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_macKey, bytes[..HalfLength], mac);
        return DurableObjectId.FixedTimeEquals(mac[..HalfLength], bytes[HalfLength..]);
    }

    private static bool IsHex(string text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}
