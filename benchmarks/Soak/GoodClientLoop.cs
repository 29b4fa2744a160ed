using System.Diagnostics;
using SourceGenDO.Load;

namespace SourceGenDO.Soak;

/// <summary>
/// The good clients: callers in a closed loop, each awaiting one <c>Increment(1)</c> at a time through
/// a stub shared by the callers of its object, every call bounded by the hang threshold. Measures in
/// named phases; a call belongs to the phase it started in. A phase begun again by its name goes on
/// where it stopped, so that windows interleaved with others add up to one measurement.
/// </summary>
internal sealed class GoodClientLoop(DurableObjectNamespace<SoakObjectStub> objects, int callers, int objectCount, TimeSpan hangThreshold)
{
    // Phases of one run: baseline, soak, after, and a few spare.
    private const int MaxPhases = 8;
    // After an error, a caller waits this long before its next call, so that a dead server is not spun on.
    private static readonly TimeSpan ErrorPause = TimeSpan.FromMilliseconds(10);

    private readonly Phase?[] _phases = new Phase?[MaxPhases];
    private readonly SoakObjectStub[] _stubs = Enumerable.Range(0, objectCount).Select(i => objects.GetByName(NameOf(i))).ToArray();
    private readonly CancellationTokenSource _stopping = new();
    private int _phaseCount;
    private int _current = -1;
    private long _stubsReplaced;
    private Task[] _loops = [];

    public void Start() =>
        _loops = Enumerable.Range(0, callers).Select(caller => Task.Run(() => CallLoopAsync(caller))).ToArray();

    /// <summary>Ends the current phase and starts measuring <paramref name="name"/>, or goes on measuring it if it ran before.</summary>
    public void BeginPhase(string name)
    {
        EndPhase();
        var index = Array.FindIndex(_phases, 0, _phaseCount, phase => phase!.Name == name);
        if (index >= 0)
        {
            _phases[index]!.Resume();
            Volatile.Write(ref _current, index);
            return;
        }
        if (_phaseCount == MaxPhases)
        {
            throw new InvalidOperationException($"At most {MaxPhases} phases.");
        }
        _phases[_phaseCount] = new Phase(name, callers);
        Volatile.Write(ref _current, _phaseCount++);
    }

    /// <summary>Ends the current phase; calls started from now on are not measured.</summary>
    public void EndPhase()
    {
        var current = Volatile.Read(ref _current);
        if (current >= 0)
        {
            Volatile.Write(ref _current, -1);
            _phases[current]!.Stop();
        }
    }

    /// <summary>Stops the callers (each finishes or abandons its call within the hang threshold) and returns what every phase measured.</summary>
    public async Task<GoodClientsResult> StopAsync()
    {
        EndPhase();
        await _stopping.CancelAsync();
        var stopped = await Task.WhenAll(_loops).WaitAsync(hangThreshold + TimeSpan.FromSeconds(5)).ContinueWith(t => t.IsCompletedSuccessfully);
        var phases = _phases.Take(_phaseCount).Select(phase => phase!.ToResult(hangThreshold)).ToList();
        return new GoodClientsResult(phases, Interlocked.Read(ref _stubsReplaced), stopped);
    }

    private static string NameOf(int objectIndex) => $"good-{objectIndex}";

    private async Task CallLoopAsync(int caller)
    {
        var objectIndex = caller % _stubs.Length;
        while (!_stopping.IsCancellationRequested)
        {
            var phaseIndex = Volatile.Read(ref _current);
            var phase = phaseIndex >= 0 ? _phases[phaseIndex] : null;
            var stub = Volatile.Read(ref _stubs[objectIndex]);
            var start = Stopwatch.GetTimestamp();
            Task<long> call;
            try
            {
                call = stub.Increment(1);
            }
            catch (Exception e)
            {
                phase?.Errors.Add(e);
                Replace(objectIndex, stub);
                await PauseAsync();
                continue;
            }
            try
            {
                await call.WaitAsync(hangThreshold).ConfigureAwait(false);
                phase?.Record(caller, start, Stopwatch.GetTimestamp());
            }
            catch (TimeoutException) when (!call.IsCompleted)
            {
                // Hung: abandon the call (noting whether it completes later) and go on with a new stub,
                // as a user with a timeout would.
                if (phase is not null)
                {
                    Interlocked.Increment(ref phase.Hung);
                    _ = call.ContinueWith(static (late, state) =>
                    {
                        _ = late.Exception;
                        Interlocked.Increment(ref ((Phase)state!).CompletedLate);
                    }, phase, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                }
                else
                {
                    _ = call.ContinueWith(static late => _ = late.Exception, TaskScheduler.Default);
                }
                Replace(objectIndex, stub);
            }
            catch (Exception e)
            {
                phase?.Errors.Add(e);
                if (e is DurableObjectException { Retryable: true } or DurableObjectException { DurableObjectReset: true })
                {
                    Replace(objectIndex, stub);
                }
                await PauseAsync();
            }
        }
    }

    /// <summary>Replaces a broken stub with a new one from the namespace, once however many callers saw it break.</summary>
    private void Replace(int objectIndex, SoakObjectStub broken)
    {
        var fresh = objects.GetByName(NameOf(objectIndex));
        if (Interlocked.CompareExchange(ref _stubs[objectIndex], fresh, broken) == broken)
        {
            Interlocked.Increment(ref _stubsReplaced);
            // Not awaited: the stub's channel may be on a dead stream.
            broken.Dispose();
        }
        else
        {
            fresh.Dispose();
        }
    }

    private async Task PauseAsync()
    {
        try
        {
            await Task.Delay(ErrorPause, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// What one phase measured, over one or more windows; histograms are per caller, each written only by
    /// its caller. A call's slice is by the phase's running time, so windows join up.
    /// </summary>
    private sealed class Phase(string name, int callers)
    {
        // Calls are also counted per slice of the phase, so that a rate that decays over it shows.
        private static readonly long SliceTicks = Stopwatch.Frequency * 10;
        private const int MaxSlices = 64;

        // The current window's start, and the running time of the windows before it.
        private long _windowStart = Stopwatch.GetTimestamp();
        private long _earlierTicks;
        private bool _running = true;
        public readonly LatencyHistogram[] Histograms = Enumerable.Range(0, callers).Select(_ => new LatencyHistogram()).ToArray();
        // Per caller, so that no two callers write one counter.
        private readonly long[][] _slices = Enumerable.Range(0, callers).Select(_ => new long[MaxSlices]).ToArray();
        public readonly Outcomes Errors = new();
        public long Hung;
        public long CompletedLate;

        /// <summary>The phase's name.</summary>
        public string Name => name;

        /// <summary>Ends the current window.</summary>
        public void Stop()
        {
            if (_running)
            {
                _earlierTicks += Stopwatch.GetTimestamp() - Volatile.Read(ref _windowStart);
                _running = false;
            }
        }

        /// <summary>Starts another window.</summary>
        public void Resume()
        {
            Volatile.Write(ref _windowStart, Stopwatch.GetTimestamp());
            _running = true;
        }

        /// <summary>Records a call of <paramref name="caller"/> that started at <paramref name="start"/> and succeeded at <paramref name="end"/>.</summary>
        public void Record(int caller, long start, long end)
        {
            Histograms[caller].Record(end - start);
            var ran = _earlierTicks + Math.Max(0, start - Volatile.Read(ref _windowStart));
            _slices[caller][Math.Min((int)(ran / SliceTicks), MaxSlices - 1)]++;
        }

        public GoodPhaseResult ToResult(TimeSpan hangThreshold)
        {
            var merged = new LatencyHistogram();
            foreach (var histogram in Histograms)
            {
                merged.Add(histogram);
            }
            var ticks = _earlierTicks + (_running ? Stopwatch.GetTimestamp() - Volatile.Read(ref _windowStart) : 0);
            var seconds = (double)ticks / Stopwatch.Frequency;
            var hung = Interlocked.Read(ref Hung);
            var late = Interlocked.Read(ref CompletedLate);
            return new GoodPhaseResult(name, seconds, merged.Count, merged.Count / seconds,
                merged.PercentileMicroseconds(0.50), merged.PercentileMicroseconds(0.99), merged.PercentileMicroseconds(1.0),
                hangThreshold.TotalSeconds, hung, late, hung - late, Errors.ToDictionary(), SlicesPerSecond(seconds));
        }

        /// <summary>Calls per second in each whole 10 s slice of the phase.</summary>
        private List<double> SlicesPerSecond(double seconds)
        {
            // A phase of 90 s measures a hair under it.
            var whole = Math.Min((int)(seconds / 10 + 0.05), MaxSlices - 1);
            return [.. Enumerable.Range(0, whole).Select(slice => _slices.Sum(counts => Volatile.Read(ref counts[slice])) / 10.0)];
        }
    }
}
