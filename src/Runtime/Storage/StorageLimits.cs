using System.Globalization;
using System.Text;

using SourceGenDO.Serialization;

namespace SourceGenDO;

/// <summary>The limits of <see cref="DurableObjectStorage"/>; past each, the call fails with an <see cref="ArgumentException"/> that names the size and the limit.</summary>
public static class StorageLimits
{
    /// <summary>The longest key, in UTF-8 bytes: 2 KiB.</summary>
    public const int MaxKeyBytes = 2 * 1024;

    /// <summary>The largest entry, key plus encoded value, in bytes: 2 MiB.</summary>
    public const int MaxEntryBytes = 2 * 1024 * 1024;

    /// <summary>The most keys one batch get or delete may name, and the most pairs one batch put may hold: 128.</summary>
    public const int MaxBatchSize = 128;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Checks a key and returns its UTF-8 length.</summary>
    internal static int CheckKey(string key, string parameter = "key")
    {
        ArgumentNullException.ThrowIfNull(key, parameter);
        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(key);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException($"The key {ClientText.Quote(key)} is not valid UTF-16 (it holds a lone surrogate), so it has no UTF-8 form.", parameter);
        }
        if (bytes > MaxKeyBytes)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The key {ClientText.Quote(key)} is {bytes:N0} bytes in UTF-8, over the limit of {MaxKeyBytes:N0} bytes (2 KiB)."),
                parameter);
        }
        return bytes;
    }

    /// <summary>Checks that a key and its encoded value fit in one entry.</summary>
    internal static void CheckEntry(string key, int keyBytes, int valueBytes)
    {
        var total = (long)keyBytes + valueBytes;
        if (total > MaxEntryBytes)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The entry {ClientText.Quote(key)} is {total:N0} bytes (key plus encoded value), over the limit of {MaxEntryBytes:N0} bytes (2 MiB)."),
                "value");
        }
    }

    /// <summary>Checks the size of a batch.</summary>
    internal static void CheckBatch(int count, string what, string parameter)
    {
        if (count > MaxBatchSize)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The batch has {count:N0} {what}, over the limit of {MaxBatchSize} per call."),
                parameter);
        }
    }
}
