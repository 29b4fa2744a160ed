using System.Text.RegularExpressions;

namespace SourceGenDO.Soak.Coordinator;

/// <summary>
/// Counts what the server logs (its console logger prints "warn: Category[id]" and the like to standard
/// output), per phase, without keeping the lines: a server under attack may log gigabytes.
/// </summary>
internal sealed partial class ServerLog
{
    // Kinds kept per phase; the rest count under one.
    private const int MaxKinds = 20;
    private readonly Dictionary<string, PhaseLog> _phases = new(StringComparer.Ordinal);
    private string _phase = "start";

    public void BeginPhase(string phase)
    {
        lock (_phases)
        {
            _phase = phase;
        }
    }

    public void Observe(string line)
    {
        lock (_phases)
        {
            if (!_phases.TryGetValue(_phase, out var log))
            {
                _phases[_phase] = log = new PhaseLog();
            }
            log.Lines++;
            log.Bytes += line.Length + 1;
            if (Entry().Match(line) is { Success: true } match)
            {
                var kind = $"{match.Groups[1].Value}: {match.Groups[2].Value}";
                if (!log.Entries.ContainsKey(kind) && log.Entries.Count >= MaxKinds)
                {
                    kind = "(other kinds)";
                }
                log.Entries[kind] = log.Entries.GetValueOrDefault(kind) + 1;
            }
        }
    }

    public Dictionary<string, PhaseLog> Snapshot()
    {
        lock (_phases)
        {
            return _phases.ToDictionary(pair => pair.Key, pair => pair.Value.Copy(), StringComparer.Ordinal);
        }
    }

    [GeneratedRegex(@"^(warn|fail|crit): (\S+)")]
    private static partial Regex Entry();

    /// <summary>What the server logged in one phase: lines, bytes, and entries by level and category.</summary>
    internal sealed class PhaseLog
    {
        public long Lines { get; set; }

        public long Bytes { get; set; }

        public Dictionary<string, long> Entries { get; init; } = new(StringComparer.Ordinal);

        public PhaseLog Copy() => new() { Lines = Lines, Bytes = Bytes, Entries = new Dictionary<string, long>(Entries, StringComparer.Ordinal) };
    }
}
