namespace SourceGenDO.Transport;

/// <summary>
/// The holds on a <see cref="FrameWriter{TItem, TFrame}"/>'s writes: while any is outstanding, queued
/// items wait, so that a burst of them shares one frame. Holds are counted in generations; a generation
/// ends when its last hold is released, or early, when its holders stop moving (see
/// <see cref="TakeForOthers"/>), and the late releases of a generation ended early count for nothing.
/// </summary>
internal sealed class WriteHolds : IDisposable
{
    // How long holds taken for others may stand still before they are ended.
    private const int CheckMilliseconds = 1;

    private readonly Action _ended;
    // The count in the low 32 bits and the generation in the high 32. Every release changes it and the
    // last one of a generation moves to the next, so equal values seen apart in time mean that no hold
    // was released in between.
    private long _state;
    private Timer? _check;
    private int _checkArmed;
    private long _stateAtCheck;
    private volatile bool _disposed;

    /// <param name="ended">Runs when holds end early, to write what they held.</param>
    public WriteHolds(Action ended) => _ended = ended;

    /// <summary>True while a hold is outstanding.</summary>
    public bool IsHeld => CountOf(Volatile.Read(ref _state)) != 0;

    /// <summary>Takes <paramref name="count"/> holds; returns the generation to release them in.</summary>
    public int Take(int count = 1) => GenerationOf(Interlocked.Add(ref _state, count));

    /// <summary>
    /// Takes <paramref name="count"/> holds for code the writer does not control (callers' continuations,
    /// objects' turns), which may block or run on for long: holds that stop moving for a millisecond end,
    /// so what they hold is written late rather than never.
    /// </summary>
    public int TakeForOthers(int count)
    {
        var generation = Take(count);
        if (count > 0 && Volatile.Read(ref _checkArmed) == 0)
        {
            ArmCheck();
        }
        return generation;
    }

    /// <summary>
    /// Releases one hold of <paramref name="generation"/>; true when it was the last one, so what was held
    /// may be written now. Does nothing once the generation ended early.
    /// </summary>
    public bool Release(int generation)
    {
        long state;
        do
        {
            state = Volatile.Read(ref _state);
            if (GenerationOf(state) != generation)
            {
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref _state, CountOf(state) == 1 ? NextGeneration(state) : state - 1, state) != state);
        return CountOf(state) == 1;
    }

    /// <summary>Ends the current generation if no hold has moved since <paramref name="state"/> was read; true if it did.</summary>
    private bool EndIfStill(long state) =>
        CountOf(state) != 0 && Interlocked.CompareExchange(ref _state, NextGeneration(state), state) == state;

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
        if (_check is null)
        {
            // Only the thread that armed the check gets here. The timer must not carry the ambient context
            // of whoever happened to take the first hold.
            using (ExecutionContext.SuppressFlow())
            {
                _check = new Timer(static holds => ((WriteHolds)holds!).Check(), this, Timeout.Infinite, Timeout.Infinite);
            }
        }
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

    private void Check()
    {
        if (_disposed)
        {
            return;
        }
        if (EndIfStill(_stateAtCheck))
        {
            // A holder is blocked, or busy for long: the others' items go out without it.
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
