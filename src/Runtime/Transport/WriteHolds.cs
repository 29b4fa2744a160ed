namespace SourceGenDO.Transport;

/// <summary>
/// The holds on a <see cref="FrameWriter{TItem, TFrame}"/>'s writes: while any is outstanding, queued
/// items wait, so that a burst of them shares one frame. Holds are counted in generations: a generation
/// ends when its last hold is released, or early (see <see cref="TakeForOthers"/>); the late releases
/// of a generation ended early count for nothing.
/// </summary>
internal sealed class WriteHolds : IDisposable
{
    // How often a generation with holds taken for others is looked at: it ends when its holds stood still
    // for a whole period, or when it has lasted MaxAgeInChecks periods while others kept it moving.
    private const int CheckMilliseconds = 1;
    private const int MaxAgeInChecks = 100;

    private readonly Action _ended;
    // The count in the low 32 bits and the generation in the high 32, changed together.
    private long _state;
    private Timer? _check;
    private int _checkArmed;
    private long _stateAtCheck;
    private int _generationAtCheck;
    private int _checksOfGeneration;
    private volatile bool _disposed;

    /// <param name="ended">Runs when a generation ends early, to write what it held.</param>
    public WriteHolds(Action ended) => _ended = ended;

    /// <summary>True while a hold is outstanding.</summary>
    public bool IsHeld => CountOf(Volatile.Read(ref _state)) != 0;

    /// <summary>Takes <paramref name="count"/> holds; returns the generation to release them in.</summary>
    public int Take(int count = 1) => GenerationOf(Interlocked.Add(ref _state, count));

    /// <summary>
    /// Takes <paramref name="count"/> holds for code the writer does not control (callers' continuations,
    /// objects' turns), which may block or run on for long: a generation that holds such holds ends, even
    /// if they are not all released, when no hold moved for a millisecond or so, and at the latest after
    /// about a hundred to two hundred milliseconds while others keep taking and releasing holds. What it
    /// holds is then written late rather than never, and a holder that never comes back cannot hold the
    /// holds taken after it.
    /// </summary>
    /// <remarks>
    /// The check that ends generations runs on a timer, which costs wake-ups; it is armed only where a
    /// holder that never comes back could hold someone else's items: when several holds are taken at
    /// once, or join holds already taken. A lone holder's own items wait for nobody but itself; items
    /// queued by others meanwhile call <see cref="WatchHeld"/>.
    /// </remarks>
    public int TakeForOthers(int count)
    {
        var state = Interlocked.Add(ref _state, count);
        if ((count > 1 || CountOf(state) > count) && Volatile.Read(ref _checkArmed) == 0)
        {
            ArmCheck();
        }
        return GenerationOf(state);
    }

    /// <summary>Arms the check if anything is held: for items queued by someone who holds nothing.</summary>
    public void WatchHeld()
    {
        if (IsHeld && Volatile.Read(ref _checkArmed) == 0)
        {
            ArmCheck();
        }
    }

    /// <summary>
    /// Releases one hold of <paramref name="generation"/>; true when it was the last one, so what was held
    /// may be written now. Does nothing once the generation ended early.
    /// </summary>
    public bool Release(int generation) => Release(generation, 1);

    /// <summary>
    /// Releases <paramref name="count"/> holds of <paramref name="generation"/> at once (holds taken for work
    /// that will not run after all); true when they were the last.
    /// </summary>
    public bool Release(int generation, int count)
    {
        long state;
        do
        {
            state = Volatile.Read(ref _state);
            if (GenerationOf(state) != generation || count <= 0)
            {
                return false;
            }
            if (CountOf(state) == 0)
            {
                // Released more often than taken: a bug, but no reason to hold every later write.
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref _state, CountOf(state) <= count ? NextGeneration(state) : state - count, state) != state);
        return CountOf(state) <= count;
    }

    /// <summary>
    /// Ends <paramref name="generation"/> if it is still the current one and holds anything; true if it
    /// did. Its holds count for nothing from then on.
    /// </summary>
    public bool End(int generation)
    {
        long state;
        do
        {
            state = Volatile.Read(ref _state);
            if (GenerationOf(state) != generation || CountOf(state) == 0)
            {
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref _state, NextGeneration(state), state) != state);
        return true;
    }

    public void Dispose()
    {
        _disposed = true;
        _check?.Dispose();
    }

    private void ArmCheck()
    {
        if (Interlocked.Exchange(ref _checkArmed, 1) != 0 || _disposed)
        {
            return;
        }
        // Only the thread that armed the check gets here.
        _check ??= CreateCheckTimer();
        _stateAtCheck = Volatile.Read(ref _state);
        try
        {
            _check.Change(CheckMilliseconds, Timeout.Infinite);
        }
        catch (ObjectDisposedException)
        {
            // The writer closed meanwhile; nothing is written any more.
        }
    }

    private Timer CreateCheckTimer()
    {
        // The timer must not carry the ambient context of whoever happened to take the first hold.
        if (ExecutionContext.IsFlowSuppressed())
        {
            return new Timer(static holds => ((WriteHolds)holds!).Check(), this, Timeout.Infinite, Timeout.Infinite);
        }
        using (ExecutionContext.SuppressFlow())
        {
            return new Timer(static holds => ((WriteHolds)holds!).Check(), this, Timeout.Infinite, Timeout.Infinite);
        }
    }

    private void Check()
    {
        if (_disposed)
        {
            return;
        }
        // Stood still for a period (or came back to the same count: ending early only costs a smaller
        // frame), or has lasted too long while holds released and taken by others kept it moving.
        var state = Volatile.Read(ref _state);
        _checksOfGeneration = GenerationOf(state) == _generationAtCheck ? _checksOfGeneration + 1 : 0;
        _generationAtCheck = GenerationOf(state);
        if ((state == _stateAtCheck || _checksOfGeneration >= MaxAgeInChecks) && End(GenerationOf(state)))
        {
            _ended();
        }
        // A full fence before the state is read again: holds taken from here on arm a new check, and
        // holds taken before it, while this one was armed, are looked after below.
        Interlocked.Exchange(ref _checkArmed, 0);
        if (IsHeld)
        {
            ArmCheck();
        }
    }

    private static int GenerationOf(long state) => (int)(state >> 32);

    private static int CountOf(long state) => (int)state;

    /// <summary>No holds, in the generation after that of <paramref name="state"/>.</summary>
    private static long NextGeneration(long state) => unchecked((long)(((ulong)state & 0xFFFF_FFFF_0000_0000UL) + (1UL << 32)));
}
