using System.Buffers.Text;
using SourceGenDO.Ids;
using SourceGenDO.Serialization;

namespace SourceGenDO.Server.Listing;

/// <summary>
/// The opaque cursor of the object listing: the last id of a page (keyset paging), as a version byte and
/// the id's 32 bytes in base64url. The id's MAC binds it to its namespace, so a cursor made up, cut, or
/// taken from another namespace's listing is refused instead of starting the listing somewhere.
/// </summary>
internal static class ListingCursor
{
    private const byte Version = 1;
    private const int Bytes = 1 + DurableObjectId.ByteLength;
    private static readonly int Chars = Base64Url.GetEncodedLength(Bytes);

    /// <summary>The cursor that continues after the object <paramref name="idHex"/> (64 hex digits).</summary>
    public static string After(string idHex)
    {
        Span<byte> bytes = stackalloc byte[Bytes];
        bytes[0] = Version;
        Convert.FromHexString(idHex, bytes[1..], out _, out _);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The id (64 lowercase hex digits) that <paramref name="cursor"/> continues after.</summary>
    /// <exception cref="ListingException">The cursor is not one this namespace's listing returned (400).</exception>
    public static string Parse(string cursor, NamespaceIdKey key, string namespaceName)
    {
        Span<byte> bytes = stackalloc byte[Bytes];
        if (cursor.Length != Chars
            || !Base64Url.TryDecodeFromChars(cursor, bytes, out var written) || written != Bytes
            || bytes[0] != Version)
        {
            throw Invalid(cursor, namespaceName);
        }
        var id = new DurableObjectId(bytes[1..].ToArray(), null);
        return key.Owns(id) ? id.ToString() : throw Invalid(cursor, namespaceName);
    }

    private static ListingException Invalid(string cursor, string namespaceName) => new(400, ListingException.InvalidCursorCode,
        $"Invalid cursor {ClientText.Quote(cursor)}: it is not a cursor of the listing of namespace \"{namespaceName}\". Pass result_info.cursor of the previous page unchanged, or none for the first page.");
}
