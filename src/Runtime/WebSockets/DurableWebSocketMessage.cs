using System.Text;

namespace SourceGenDO;

/// <summary>One whole message a client sent on a <see cref="DurableWebSocket"/>: text or binary.</summary>
public readonly struct DurableWebSocketMessage
{
    private readonly string? _text;

    /// <summary>A text message; <see cref="Data"/> holds its UTF-8 bytes.</summary>
    public DurableWebSocketMessage(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _text = text;
        Data = Encoding.UTF8.GetBytes(text);
        IsText = true;
    }

    /// <summary>A text message whose UTF-8 bytes the receiver already has.</summary>
    internal DurableWebSocketMessage(string text, ReadOnlyMemory<byte> utf8)
    {
        _text = text;
        Data = utf8;
        IsText = true;
    }

    /// <summary>A binary message of <paramref name="data"/>.</summary>
    public DurableWebSocketMessage(ReadOnlyMemory<byte> data)
    {
        Data = data;
        IsText = false;
    }

    /// <summary>True for a text message, false for a binary one.</summary>
    public bool IsText { get; }

    /// <summary>The text of a text message.</summary>
    /// <exception cref="InvalidOperationException">The message is binary.</exception>
    public string Text => IsText
        ? _text ?? string.Empty
        : throw new InvalidOperationException("The WebSocket message is binary, not text: read its bytes from DurableWebSocketMessage.Data.");

    /// <summary>The bytes of the message (UTF-8 for a text message).</summary>
    public ReadOnlyMemory<byte> Data { get; }
}
