using SourceGenDO.Load.Coordinator;

namespace SourceGenDO.Soak.Coordinator;

/// <summary>
/// Samples the resident memory of the soak's processes every 100 ms: the peak per phase, and a hard cap
/// past which the process is killed to protect the shared machine (reported as such).
/// </summary>
internal sealed class ProcessWatch(long killAboveBytes)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private readonly Dictionary<string, Watched> _watched = new(StringComparer.Ordinal);
    private string _phase = "start";

    public void Add(string role, ChildProcess process)
    {
        lock (_watched)
        {
            _watched[role] = new Watched(process);
        }
    }

    public void BeginPhase(string phase)
    {
        lock (_watched)
        {
            _phase = phase;
        }
    }

    /// <summary>The peak resident bytes of <paramref name="role"/> in <paramref name="phase"/>, or 0.</summary>
    public long Peak(string role, string phase)
    {
        lock (_watched)
        {
            return _watched.TryGetValue(role, out var watched) ? watched.Peaks.GetValueOrDefault(phase) : 0;
        }
    }

    /// <summary>The peak resident bytes of <paramref name="role"/> over the whole run, or 0.</summary>
    public long PeakOverall(string role)
    {
        lock (_watched)
        {
            return _watched.TryGetValue(role, out var watched) ? watched.Peaks.Values.DefaultIfEmpty(0).Max() : 0;
        }
    }

    /// <summary>When <paramref name="role"/> was killed for passing the cap: the phase and the bytes, else null.</summary>
    public string? KilledAtCap(string role)
    {
        lock (_watched)
        {
            return _watched.TryGetValue(role, out var watched) ? watched.KilledAtCap : null;
        }
    }

    /// <summary>The phase in which <paramref name="role"/> was first seen exited, or null.</summary>
    public string? ExitedIn(string role)
    {
        lock (_watched)
        {
            return _watched.TryGetValue(role, out var watched) ? watched.ExitedIn : null;
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Sample();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Sample()
    {
        lock (_watched)
        {
            foreach (var (role, watched) in _watched)
            {
                if (watched.Process.HasExited)
                {
                    watched.ExitedIn ??= _phase;
                    continue;
                }
                var bytes = watched.Process.ResidentBytes();
                // Keeps the process's last CPU time fresh, for a phase in which it dies.
                watched.Process.ProcessorTime();
                watched.Peaks[_phase] = Math.Max(watched.Peaks.GetValueOrDefault(_phase), bytes);
                if (bytes > killAboveBytes && watched.KilledAtCap is null)
                {
                    watched.KilledAtCap = $"in phase {_phase} at {bytes / 1048576.0:N0} MiB";
                    Console.Error.WriteLine($"  {role} passed the RSS cap of {killAboveBytes / 1048576.0:N0} MiB ({bytes / 1048576.0:N0} MiB): killing it");
                    watched.Process.Kill();
                }
            }
        }
    }

    private sealed class Watched(ChildProcess process)
    {
        public ChildProcess Process { get; } = process;

        public Dictionary<string, long> Peaks { get; } = new(StringComparer.Ordinal);

        public string? KilledAtCap { get; set; }

        public string? ExitedIn { get; set; }
    }
}
