using System.Diagnostics;

namespace SourceGenDO.Diagnostics;

/// <summary>The storage commit instruments' recording, for the group committer.</summary>
internal static class StorageTelemetry
{
    /// <summary>The timestamp to time a commit from; 0 when no listener wants commit durations.</summary>
    public static long Begin() => SourceGenDOMetrics.StorageCommitDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Counts a commit begun at <paramref name="started"/> (see <see cref="Begin"/>) that ended.</summary>
    public static void End(long started, bool failed)
    {
        if (!SourceGenDOMetrics.StorageCommits.Enabled && started == 0)
        {
            return;
        }
        var outcome = new KeyValuePair<string, object?>(TelemetryTags.Outcome, failed ? TelemetryTags.Error : TelemetryTags.Ok);
        SourceGenDOMetrics.StorageCommits.Add(1, outcome);
        if (started != 0)
        {
            SourceGenDOMetrics.StorageCommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, outcome);
        }
    }
}
