using System.Globalization;
using System.Text.Unicode;
using SourceGenDO.Wire;

namespace SourceGenDO.Serialization;

/// <summary>Size limits of serialized arguments and results, and of the frames that carry them.</summary>
public static class PayloadLimits
{
    /// <summary>The largest serialized argument list or result: 32 MiB.</summary>
    public const int MaxPayloadBytes = 32 * 1024 * 1024;

    /// <summary>
    /// The largest gRPC message either side accepts: one payload at the limit plus room for the frame
    /// around it. A frame over this ends the stream, so senders count every entry's encoded size and
    /// never pack entries beyond it together; an entry that cannot fit fails its own call.
    /// </summary>
    public const int MaxFrameBytes = MaxPayloadBytes + 1024 * 1024;

    /// <summary>
    /// The most entries (opens, calls, cancels and closes together) one client frame may carry: 65,536.
    /// SourceGenDO's client packs at most 1,024. A frame with more is malformed and ends the stream,
    /// before anything is allocated per entry.
    /// </summary>
    public const int MaxEntriesPerClientFrame = 65_536;

    /// <summary>
    /// The most entries (results and closed channels) one server frame may carry: 65,536. SourceGenDO's
    /// server packs at most 1,024.
    /// </summary>
    public const int MaxEntriesPerServerFrame = 65_536;

    /// <summary>
    /// The longest error message, in UTF-8 bytes, that crosses the wire: 64 KiB. A longer one (an
    /// exception whose message holds a whole document) is cut to this bound and ends with a note
    /// saying so and how long it was; the call fails all the same, with the error's type kept.
    /// </summary>
    public const int MaxErrorMessageBytes = 64 * 1024;

    /// <summary>The longest error type name, in UTF-8 bytes, that crosses the wire: 1 KiB; a longer one is cut.</summary>
    public const int MaxErrorTypeBytes = 1024;

    /// <summary>An upper bound of an error's encoded size once <see cref="FitError"/> has cut it.</summary>
    internal const int MaxErrorBytes = MaxErrorMessageBytes + MaxErrorTypeBytes + 64;

    internal static string Describe(int bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes, over the limit of {MaxPayloadBytes:N0} bytes (32 MiB)");

    /// <summary>
    /// <paramref name="error"/> itself when its message and type are within their bounds, else a copy
    /// with them cut (the message with a note). Cheap for the usual short error: no byte count.
    /// </summary>
    internal static Error FitError(Error error)
    {
        var message = error.Message;
        var type = error.Type;
        // A UTF-16 code unit takes at most 3 UTF-8 bytes, so short strings need no count.
        if (message.Length * 3L <= MaxErrorMessageBytes && type.Length * 3L <= MaxErrorTypeBytes)
        {
            return error;
        }
        var fittedMessage = CutMessage(message);
        var fittedType = Cut(type, MaxErrorTypeBytes);
        if (ReferenceEquals(fittedMessage, message) && ReferenceEquals(fittedType, type))
        {
            return error;
        }
        var fitted = error.Clone();
        fitted.Message = fittedMessage;
        fitted.Type = fittedType;
        return fitted;
    }

    /// <summary>The message itself when within <see cref="MaxErrorMessageBytes"/>, else its start and a note.</summary>
    internal static string CutMessage(string message)
    {
        var bytes = System.Text.Encoding.UTF8.GetByteCount(message);
        if (bytes <= MaxErrorMessageBytes)
        {
            return message;
        }
        var note = string.Create(CultureInfo.InvariantCulture,
            $" [message cut: it was {bytes:N0} bytes, over the limit of {MaxErrorMessageBytes:N0} bytes]");
        // The note is ASCII: its length is its byte count.
        var head = Cut(message, MaxErrorMessageBytes - note.Length);
        return string.Concat(head, note);
    }

    /// <summary>The longest start of <paramref name="text"/> within <paramref name="maxBytes"/> UTF-8 bytes, never splitting a character.</summary>
    private static string Cut(string text, int maxBytes)
    {
        if (text.Length * 3L <= maxBytes)
        {
            return text;
        }
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            // Whole scalars only: a surrogate pair is never split between the kept part and the rest.
            var status = Utf8.FromUtf16(text, buffer.AsSpan(0, maxBytes), out var charsRead, out _, true, true);
            if (status == System.Buffers.OperationStatus.Done)
            {
                return text;
            }
            return text[..charsRead];
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
