using System.Globalization;
using System.Text;

namespace SourceGenDO.Soak.Coordinator;

/// <summary>Renders a soak run as markdown (the table, the targets met or not, what every bad client saw) and as JSON.</summary>
internal sealed class SoakReport(string environment, SoakSettings settings, SoakResult result, TimeSpan elapsed)
{
    // The targets of issue 9: the good clients keep this share of their baseline calls/s.
    private const double KeptShare = 0.80;

    public IReadOnlyList<Target> Targets() =>
    [
        new("good clients keep ≥ 80% of their baseline calls/s in the soak phase",
            Kept() is { } kept ? Percent(kept) : "not measured", Kept() >= KeptShare),
        .. (Good("paused") is null ? Array.Empty<Target>() :
        [
            new("the same, against the paused windows between the soak's (a baseline of the same minutes)",
                KeptInterleaved() is { } interleaved ? Percent(interleaved) : "not measured", KeptInterleaved() >= KeptShare),
        ]),
        new($"nothing hangs: no good call over {settings.HangSeconds:0} s, no bad client's call or malformed stream unanswered over {settings.BadHangSeconds:0} s",
            HangsText(), result.Good is not null && GoodHangs() == 0 && result.Bad is not null && BadHangs() == 0),
        new($"server peak RSS under {settings.RssBoundMiB:N0} MiB", $"{MiB(result.Server.PeakBytes)} MiB", result.Server.PeakBytes > 0 && result.Server.PeakBytes < settings.RssBoundMiB * 1048576L),
        new("the server process survives", ServerFateText(), result.Server.Survived),
    ];

    public string ToJson() => ResultJson.Write(new { environment, settings, elapsedSeconds = elapsed.TotalSeconds, targets = Targets(), result }, indented: true);

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        Line(text, $"Machine: {environment}. Run of {elapsed.TotalSeconds:N0} s: one server process (defaults of `AddDurableObjects`), the good clients' process ({settings.Callers} callers in a closed loop over {settings.Objects} objects through one `DurableObjectClient`), the bad clients' process in the soak phase only ({settings.BadPriority.Description}); all on loopback, sharing {Environment.ProcessorCount} cores, so the server's work for the bad clients competes with the good clients for CPU (the last column says how much each took).");
        var control = settings.ControlSeconds > 0 ? FormattableString.Invariant($", control {settings.ControlSeconds:N0} s (beside one busy thread per core at the bad clients' priority, and no bad client)") : "";
        var soak = settings.PausedSeconds > 0
            ? FormattableString.Invariant($"soak {settings.Seconds:N0} s (beside every bad client, in windows of {settings.WindowSeconds:N0} s), paused {settings.PausedSeconds:N0} s after each soak window (the bad clients' process stopped by SIGSTOP, {SoakRun.SettleSeconds:0.#} s after the stop, so that the server has answered what they sent; their connections stay open)")
            : FormattableString.Invariant($"soak {settings.Seconds:N0} s (beside every bad client)");
        Line(text, $"Phases: baseline {settings.Seconds:N0} s (good clients alone){control}, {soak}, after {settings.AfterSeconds:N0} s (the bad clients gone). A call belongs to the phase it started in; a call is hung when it takes over {settings.HangSeconds:0} s.");
        text.AppendLine();
        text.AppendLine("| phase | good calls/s | vs baseline | p50 ms | p99 ms | max ms | hung (never completed) | good errors | server RSS peak / end | CPU s: server, good, bad |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var baseline = Good("baseline");
        foreach (var phase in result.Phases)
        {
            var good = Good(phase.Name);
            var ratio = good is not null && baseline is { CallsPerSecond: > 0 } ? Percent(good.CallsPerSecond / baseline.CallsPerSecond) : "-";
            if (good is null)
            {
                Line(text, $"| {phase.Name} | - | - | - | - | - | - | - | {MiB(phase.ServerPeakBytes)} / {MiB(phase.ServerEndBytes)} MiB | {phase.ServerCpuSeconds:N1}, {phase.GoodCpuSeconds:N1}, {phase.BadCpuSeconds:N1} |");
            }
            else
            {
                Line(text, $"| {phase.Name} | {good.CallsPerSecond:N0} | {ratio} | {good.P50Us / 1000:N2} | {good.P99Us / 1000:N2} | {good.MaxUs / 1000:N0} | {good.Hung:N0} ({good.NeverCompleted:N0}) | {good.Errors.Values.Sum():N0} | {MiB(phase.ServerPeakBytes)} / {MiB(phase.ServerEndBytes)} MiB | {phase.ServerCpuSeconds:N1}, {phase.GoodCpuSeconds:N1}, {phase.BadCpuSeconds:N1} |");
            }
        }
        if (result.Good?.Phases.Where(p => p.CallsPerSecondBy10Seconds.Count > 1).ToList() is { Count: > 0 } sliced)
        {
            text.AppendLine();
            var slices = string.Join("; ", sliced.Select(p =>
                FormattableString.Invariant($"{p.Name} {string.Join(", ", p.CallsPerSecondBy10Seconds.Select(rate => FormattableString.Invariant($"{rate / 1000:N0}k")))}")));
            text.AppendLine($"Good calls/s in each 10 s of a phase: {slices}.");
        }
        if (Good("control") is { CallsPerSecond: > 0 } controlled && Good("baseline") is { CallsPerSecond: > 0 } alone && Good("soak") is { } soaked)
        {
            text.AppendLine();
            Line(text, $"Control: beside busy threads alone, which give the server no work, the good clients kept {Percent(controlled.CallsPerSecond / alone.CallsPerSecond)} of the baseline: what sharing the cores with another process costs them on this machine. The soak phase's rate is {Percent(soaked.CallsPerSecond / controlled.CallsPerSecond)} of the control's.");
        }
        text.AppendLine();
        text.AppendLine("| target | measured | |");
        text.AppendLine("|---|---|---|");
        foreach (var target in Targets())
        {
            Line(text, $"| {target.What} | {Cell(target.Measured)} | {(target.Met ? "met" : "**NOT MET**")} |");
        }
        text.AppendLine();
        Line(text, $"Server: {ServerFateText()}; peak RSS {MiB(result.Server.PeakBytes)} MiB over the run, {MiB(result.Server.EndBytes)} MiB at the end{(!result.Server.Survived ? "" : result.Server.StoppedGracefully ? "; stopped within 10 s when asked" : "; did **not** stop within 10 s when asked (killed)")}.");

        var errors = result.Good?.Phases.Where(p => p.Errors.Count > 0).ToList() ?? [];
        if (errors.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("| errors seen by good clients | phase | calls |");
            text.AppendLine("|---|---|---:|");
            foreach (var phase in errors)
            {
                foreach (var (kind, count) in phase.Errors)
                {
                    Line(text, $"| {Cell(kind)} | {phase.Name} | {count:N0} |");
                }
            }
        }

        text.AppendLine();
        if (result.Bad is null)
        {
            text.AppendLine("The bad clients gave no result (see the problems below).");
        }
        else
        {
            text.AppendLine("| bad client | what it did | what it saw (count × outcome) |");
            text.AppendLine("|---|---|---|");
            foreach (var bad in result.Bad.Clients)
            {
                var saw = string.Join("<br>", bad.Saw.Select(pair => $"{pair.Value:N0} × {Cell(pair.Key)}"));
                Line(text, $"| {bad.Kind}{(bad.StoppedInTime ? "" : " (did not stop in time)")} | {Cell(bad.Did)} | {saw} |");
            }
        }

        text.AppendLine();
        text.AppendLine("| server log | lines | KiB | entries (count × level: category) |");
        text.AppendLine("|---|---:|---:|---|");
        foreach (var (phase, log) in result.ServerLog)
        {
            Line(text, $"| {phase} | {log.Lines:N0} | {log.Bytes / 1024.0:N0} | {string.Join("<br>", log.Entries.OrderByDescending(e => e.Value).Select(e => $"{e.Value:N0} × {Cell(e.Key)}"))} |");
        }

        if (result.Problems.Count > 0 || result.Good is { StoppedInTime: false })
        {
            text.AppendLine();
            text.AppendLine("Problems of the run itself:");
            foreach (var problem in result.Problems)
            {
                Line(text, $"- {problem}");
            }
            if (result.Good is { StoppedInTime: false })
            {
                text.AppendLine("- the good clients did not all stop within the hang threshold");
            }
        }

        text.AppendLine();
        Line(text, $"The RSS bound: the server idles at about 60 MiB and peaks near 120 MiB under the load benchmark's objects1000; the bad clients are owed what their bounds allow: a few slow-reader streams' unsent results and calls in flight (tens of MiB each at sensible per-stream bounds), a burst of oversize errors in flight (by default 1,000 of 40,000 chars: about 40 MiB per copy), a queue of calls past the object's bound (about 1 KiB each, 50,000 at most), and a few hundred idle sockets (kilobytes each). That sums to a few hundred MiB; {settings.RssBoundMiB:N0} MiB leaves room for the GC's headroom, while unbounded buffering (about 1 KiB per call a slow reader sends, 250,000 calls per stream) passes it. The soak kills a process past {settings.RssKillMiB:N0} MiB to protect the machine.");
        return text.ToString();
    }

    private GoodPhaseResult? Good(string phase) => result.Good?.Phases.FirstOrDefault(p => p.Name == phase);

    private double? Kept() =>
        Good("baseline") is { CallsPerSecond: > 0 } baseline && Good("soak") is { } soak ? soak.CallsPerSecond / baseline.CallsPerSecond : null;

    private double? KeptInterleaved() =>
        Good("paused") is { CallsPerSecond: > 0 } paused && Good("soak") is { } soak ? soak.CallsPerSecond / paused.CallsPerSecond : null;

    private long GoodHangs() => result.Good?.Phases.Sum(p => p.Hung) ?? 0;

    private long BadHangs() => result.Bad?.Clients.Sum(c => c.Hangs) ?? 0;

    private string HangsText()
    {
        var good = result.Good is null ? "good clients: no result" : $"good calls hung: {GoodHangs():N0} ({result.Good.Phases.Sum(p => p.NeverCompleted):N0} never completed)";
        var bad = result.Bad is null ? "bad clients: no result" : $"bad clients left unanswered: {BadHangs():N0}"
            + string.Concat(result.Bad.Clients.Where(c => c.Hangs > 0).Select(c => $" ({c.Kind}: {c.Hangs:N0})"));
        return $"{good}; {bad}";
    }

    private string ServerFateText()
    {
        var server = result.Server;
        if (server.KilledAtCap is { } cap)
        {
            return $"killed by the soak for passing the RSS cap of {settings.RssKillMiB:N0} MiB ({cap})";
        }
        if (server.ExitedIn is { } phase)
        {
            return $"exited by itself in phase {phase}{(server.ExitCode is { } code ? $" with code {code}" : "")}";
        }
        return server.Survived ? "survived" : "did not start";
    }

    private static string Percent(double share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("N0", CultureInfo.InvariantCulture);

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(FormattableString.Invariant(line));
}

/// <summary>A target of the soak: what it asks, what was measured, and whether it was met.</summary>
internal sealed record Target(string What, string Measured, bool Met);
