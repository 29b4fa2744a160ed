using System.Collections.Concurrent;
using Grpc.Core;

namespace SourceGenDO.Soak;

/// <summary>
/// Counts of what a client saw, by kind ("calls answered", "RpcException Unknown: ..."), safe to add to
/// from any thread. At most <see cref="MaxKinds"/> kinds: messages that carry ids would otherwise grow it
/// without bound; the rest count under one kind.
/// </summary>
internal sealed class Outcomes
{
    private const int MaxKinds = 40;
    private const string OtherKinds = "(other kinds)";
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(string kind, long count = 1)
    {
        if (!_counts.ContainsKey(kind) && _counts.Count >= MaxKinds)
        {
            kind = OtherKinds;
        }
        _counts.AddOrUpdate(kind, count, (_, old) => old + count);
    }

    public void Add(Exception exception) => Add(Describe(exception));

    public long Total => _counts.Values.Sum();

    public Dictionary<string, long> ToDictionary() =>
        _counts.OrderByDescending(pair => pair.Value).ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);

    /// <summary>What an exception says, short enough for a table: type, flags and the start of the message.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        DurableObjectException e => $"DurableObjectException{Flags(e)}: {Short(e.Message)}",
        RpcException e => $"RpcException {e.StatusCode}: {Short(e.Status.Detail)}",
        AggregateException { InnerException: { } inner } => Describe(inner),
        _ => $"{exception.GetType().Name}{(exception.IsRemote() ? " (remote)" : "")}: {Short(exception.Message)}",
    };

    /// <summary>The first 200 characters of <paramref name="text"/> (enough for an HTTP/2 error code after grpc-dotnet's prefix), with its length when it is longer.</summary>
    public static string Short(string? text)
    {
        const int Kept = 200;
        text = (text ?? "").ReplaceLineEndings(" ");
        return text.Length <= Kept ? text : $"{text[..Kept]}… ({text.Length:N0} chars)";
    }

    private static string Flags(DurableObjectException e)
    {
        var flags = new List<string>();
        if (e.Retryable)
        {
            flags.Add("Retryable");
        }
        if (e.Overloaded)
        {
            flags.Add("Overloaded");
        }
        if (e.DurableObjectReset)
        {
            flags.Add("Reset");
        }
        if (e.Remote)
        {
            flags.Add("Remote " + e.RemoteType);
        }
        return flags.Count == 0 ? "" : $" [{string.Join(", ", flags)}]";
    }
}
