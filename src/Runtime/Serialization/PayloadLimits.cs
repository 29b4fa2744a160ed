namespace SourceGenDO.Serialization;

/// <summary>Size limits of serialized arguments and results.</summary>
public static class PayloadLimits
{
    /// <summary>The largest serialized argument list or result: 32 MiB.</summary>
    public const int MaxPayloadBytes = 32 * 1024 * 1024;

    /// <summary>
    /// The largest gRPC message either side accepts: one payload at the limit plus room for the frame
    /// around it. A frame over this ends the stream, so senders never pack calls beyond
    /// <see cref="MaxPayloadBytes"/> together.
    /// </summary>
    public const int MaxFrameBytes = MaxPayloadBytes + 1024 * 1024;

    internal static string Describe(int bytes) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{bytes:N0} bytes, over the limit of {MaxPayloadBytes:N0} bytes (32 MiB)");
}
