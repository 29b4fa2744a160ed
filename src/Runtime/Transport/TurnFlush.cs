namespace SourceGenDO.Transport;

/// <summary>
/// Lets a unit of work (an object's turn on the server) batch what it writes: writers that get items
/// during the turn are flushed once when it ends, on the same thread, instead of each scheduling a
/// write of its own on another thread.
/// </summary>
internal static class TurnFlush
{
    [ThreadStatic]
    private static List<Action>? t_flushes;

    [ThreadStatic]
    private static int t_depth;

    public static void Begin() => t_depth++;

    /// <summary>Runs <paramref name="flush"/> when the current turn ends; false when no turn is running.</summary>
    public static bool TryDefer(Action flush)
    {
        if (t_depth == 0)
        {
            return false;
        }
        (t_flushes ??= []).Add(flush);
        return true;
    }

    public static void End()
    {
        if (--t_depth != 0 || t_flushes is not { Count: > 0 } flushes)
        {
            return;
        }
        // A flush may start a turn of its own (an in-process stream), so take the list first.
        var pending = flushes.ToArray();
        flushes.Clear();
        foreach (var flush in pending)
        {
            flush();
        }
    }
}
