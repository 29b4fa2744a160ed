using System.Diagnostics;
using System.Globalization;
using SourceGenDO.Load;
using SourceGenDO.Load.Coordinator;
using SourceGenDO.Soak.Roles;

namespace SourceGenDO.Soak.Coordinator;

/// <summary>
/// The one command: a server process; the good clients' process, measured alone (baseline), beside busy
/// threads at the bad clients' priority (control), beside the bad clients' process (soak), then alone
/// again (after); writes benchmarks/results/soak-latest.md
/// and .json. Every wait is bounded and a watchdog kills every process past the phases + 90 s.
/// The soak phase runs in windows, and between them the bad clients' process is stopped (SIGSTOP) for a
/// window of its own ("paused"): the good clients' rate in the paused windows is a baseline of the same
/// minutes, which the machine's drift (baselines of one machine differ by a third between runs) cannot
/// move the way it moves a phase minutes apart.
/// </summary>
internal static class SoakRun
{
    // Options passed on to the bad clients' process as given.
    private static readonly string[] BadOptions =
    [
        "slow-readers", "slow-reader-calls", "malformed-streams", "malformed-per-second", "silent-sockets", "flood-connections",
        "flood-burst", "flood-pause", "oversize-calls", "oversize-length", "oversize-pause", "only",
    ];

    /// <summary>How long the server gets to answer what the bad clients sent before they were stopped, ahead of a paused window.</summary>
    internal const double SettleSeconds = 1;

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var settings = new SoakSettings(
            Seconds: arguments.GetDouble("seconds", 120),
            ControlSeconds: arguments.GetDouble("control-seconds", arguments.GetDouble("seconds", 120)),
            WarmupSeconds: arguments.GetDouble("warmup", 5),
            AfterSeconds: arguments.GetDouble("after", 5),
            HangSeconds: arguments.GetDouble("hang-seconds", 10),
            Callers: arguments.GetInt("callers", 64),
            Objects: arguments.GetInt("objects", 16),
            RssBoundMiB: arguments.GetInt("rss-bound-mib", 1024),
            RssKillMiB: arguments.GetInt("rss-kill-mib", 4096),
            BadPriority: BadPriority.Parse(arguments.Get("bad-priority") ?? "idle"),
            ServerOpenFiles: arguments.GetInt("server-nofile", 0),
            WindowSeconds: arguments.GetDouble("window", 10),
            PausedSeconds: arguments.GetDouble("paused", 5),
            BadArguments: [.. BadOptions.Where(arguments.Has).SelectMany(option => new[] { "--" + option, arguments.Require(option) })]);
        if (settings.PausedSeconds > 0 && settings.WindowSeconds <= 0)
        {
            throw new ArgumentException("--window must be positive when --paused is (--paused 0 runs the soak phase in one piece).");
        }
        var root = BenchmarkRun.RepositoryRoot();
        var output = Path.GetFullPath(arguments.Get("out") ?? Path.Combine(root, "benchmarks", "results"));
        Directory.CreateDirectory(output);

        var run = new Run(settings);
        var clock = Stopwatch.StartNew();
        var result = await run.ExecuteAsync();
        var report = new SoakReport(BenchmarkRun.Environment(), settings, result, clock.Elapsed);
        var markdown = report.ToMarkdown();
        await File.WriteAllTextAsync(Path.Combine(output, "soak-latest.md"), markdown);
        await File.WriteAllTextAsync(Path.Combine(output, "soak-latest.json"), report.ToJson());
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"Written to {Path.Combine(output, "soak-latest.md")} and soak-latest.json ({clock.Elapsed.TotalSeconds:N0} s)");
        return 0;
    }

    /// <summary>One soak run: its processes, the watchdog and what was measured.</summary>
    private sealed class Run(SoakSettings settings)
    {
        private readonly string _dll = typeof(SoakRun).Assembly.Location;
        private readonly string _port = Systems.Ports.Free().Main;
        private readonly ServerLog _serverLog = new();
        private readonly ProcessWatch _watch = new(settings.RssKillMiB * 1048576L);
        private readonly List<string> _problems = [];
        private readonly List<PhaseMeasurement> _phases = [];
        private ChildProcess? _server;
        private ChildProcess? _good;
        private ChildProcess? _bad;
        // The control phase's busy threads, while they run.
        private ChildProcess? _burner;

        private TimeSpan Hang => TimeSpan.FromSeconds(settings.HangSeconds);

        public async Task<SoakResult> ExecuteAsync()
        {
            var paused = settings.PausedSeconds > 0 ? Math.Ceiling(settings.Seconds / settings.WindowSeconds) * (settings.PausedSeconds + SettleSeconds) : 0;
            var limit = 2 * settings.Seconds + settings.ControlSeconds + paused + 90;
            using var watchdog = new CancellationTokenSource(TimeSpan.FromSeconds(limit));
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(() => _watch.RunAsync(sampling.Token));
            await using var killAll = watchdog.Token.Register(() =>
            {
                Problem($"the watchdog stopped the run after {limit:N0} s");
                KillAll();
            });
            GoodClientsResult? good = null;
            BadClientsResult? bad = null;
            long serverEndBytes = 0;
            int? serverExitCode = null;
            var serverStoppedGracefully = false;
            try
            {
                // --server-nofile: the open-file limit of a default deployment (1,024) instead of this shell's.
                string[] serverLauncher = settings.ServerOpenFiles > 0 ? ["prlimit", $"--nofile={settings.ServerOpenFiles}:{settings.ServerOpenFiles}"] : [];
                _server = ChildProcess.Start(_dll, _serverLog.Observe, serverLauncher, "server", "--port", _port);
                _watch.Add("server", _server);
                await _server.WaitReadyAsync(TimeSpan.FromSeconds(60)).WaitAsync(watchdog.Token);
                Console.WriteLine($"server {_server.Id} listening on {_port}");

                _good = ChildProcess.Start(_dll, "good", "--port", _port, "--callers", Text(settings.Callers), "--objects", Text(settings.Objects),
                    "--hang-seconds", Text(settings.HangSeconds));
                _watch.Add("good", _good);
                await _good.WaitReadyAsync(TimeSpan.FromSeconds(30)).WaitAsync(watchdog.Token);
                await Task.Delay(TimeSpan.FromSeconds(settings.WarmupSeconds), watchdog.Token);

                await PhaseAsync("baseline", settings.Seconds, watchdog.Token);

                if (settings.ControlSeconds > 0)
                {
                    // The control: busy threads at the bad clients' priority instead of the bad clients, so
                    // the report can tell what sharing the cores costs from what the server's work for them does.
                    _burner = ChildProcess.Start(_dll, null, settings.BadPriority.Launcher, ["burn"]);
                    await _burner.WaitReadyAsync(TimeSpan.FromSeconds(30)).WaitAsync(watchdog.Token);
                    await PhaseAsync("control", settings.ControlSeconds, watchdog.Token);
                    await _burner.DisposeAsync();
                    _burner = null;
                }

                // Lower CPU priority: the bad clients stand for other machines, so their own work (encoding
                // floods, failing calls) should not be charged to the server they attack.
                _bad = ChildProcess.Start(_dll, null, settings.BadPriority.Launcher, ["bad", "--port", _port, "--hang-seconds", Text(settings.BadHangSeconds), .. settings.BadArguments]);
                _watch.Add("bad", _bad);
                try
                {
                    await _bad.WaitReadyAsync(Hang + TimeSpan.FromSeconds(20)).WaitAsync(watchdog.Token);
                }
                catch (TimeoutException)
                {
                    Problem("the bad clients did not report ready in time; the soak phase ran with whatever had started");
                }
                await SoakAsync(_bad, watchdog.Token);
                bad = await ResultOfAsync<BadClientsResult>(_bad, "bad clients", Hang + TimeSpan.FromSeconds(20));

                // Let the server notice the bad clients are gone before the last phase.
                await Task.Delay(TimeSpan.FromSeconds(1), watchdog.Token);
                await PhaseAsync("after", settings.AfterSeconds, watchdog.Token);
                good = await ResultOfAsync<GoodClientsResult>(_good, "good clients", Hang + TimeSpan.FromSeconds(15));
            }
            catch (Exception e)
            {
                Problem($"the run stopped early: {Outcomes.Describe(e)}");
                if (good is null && _good is { HasExited: false })
                {
                    good = await ResultOfAsync<GoodClientsResult>(_good, "good clients", Hang + TimeSpan.FromSeconds(15));
                }
            }
            finally
            {
                // Stop watching before stopping anything: an exit from here on is ours.
                await sampling.CancelAsync();
                await sampler;
                _watch.Sample();
                if (_server is not null)
                {
                    serverEndBytes = _server.ResidentBytes();
                    var serverAlive = !_server.HasExited;
                    serverExitCode = serverAlive ? null : _server.ExitCode;
                    // Closing standard input stops the server gracefully; ChildProcess kills it after 10 s.
                    await _server.DisposeAsync();
                    serverStoppedGracefully = serverAlive && !_server.WasKilled;
                }
                KillAll();
            }

            return new SoakResult(
                _phases,
                good,
                bad,
                new ServerFate(
                    Survived: _watch.ExitedIn("server") is null && _watch.KilledAtCap("server") is null && _server is not null,
                    ExitedIn: _watch.ExitedIn("server"),
                    ExitCode: serverExitCode,
                    KilledAtCap: _watch.KilledAtCap("server"),
                    PeakBytes: _watch.PeakOverall("server"),
                    EndBytes: serverEndBytes,
                    StoppedGracefully: serverStoppedGracefully),
                _serverLog.Snapshot(),
                _problems);
        }

        /// <summary>
        /// The soak phase: windows of <see cref="SoakSettings.WindowSeconds"/> beside the bad clients, each
        /// followed by one of <see cref="SoakSettings.PausedSeconds"/> with their process stopped, after
        /// <see cref="SettleSeconds"/> for the server to finish what they had sent.
        /// </summary>
        private async Task SoakAsync(ChildProcess bad, CancellationToken watchdog)
        {
            if (settings.PausedSeconds <= 0)
            {
                await PhaseAsync("soak", settings.Seconds, watchdog);
                return;
            }
            for (var ran = 0.0; ran < settings.Seconds - 0.001; ran += settings.WindowSeconds)
            {
                await PhaseAsync("soak", Math.Min(settings.WindowSeconds, settings.Seconds - ran), watchdog);
                Signal(bad, "STOP");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(SettleSeconds), watchdog);
                    await PhaseAsync("paused", settings.PausedSeconds, watchdog);
                }
                finally
                {
                    Signal(bad, "CONT");
                }
            }
        }

        /// <summary>Sends SIGSTOP or SIGCONT (<paramref name="signal"/>) to <paramref name="process"/>.</summary>
        private void Signal(ChildProcess process, string signal)
        {
            if (process.HasExited)
            {
                return;
            }
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, process.Id.ToString(CultureInfo.InvariantCulture)]))!;
            if (!kill.WaitForExit(TimeSpan.FromSeconds(10)) || kill.ExitCode != 0)
            {
                Problem($"kill -{signal} {process.Id} failed");
            }
        }

        /// <summary>
        /// Measures one phase, or one more window of it: the good clients' window, and the server's memory
        /// and everyone's CPU over it (a phase of several windows adds them up).
        /// </summary>
        private async Task PhaseAsync(string name, double seconds, CancellationToken watchdog)
        {
            Console.WriteLine($"phase {name}: {seconds:N0} s");
            var cpu = Cpu();
            _watch.BeginPhase(name);
            _serverLog.BeginPhase(name);
            Send(_good, $"phase {name}");
            var clock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds), watchdog);
            Send(_good, "pause");
            _watch.Sample();
            var end = _server?.ResidentBytes() ?? 0;
            var cpuAfter = Cpu();
            _watch.BeginPhase("between phases");
            _serverLog.BeginPhase("between phases");
            var phase = new PhaseMeasurement(name, clock.Elapsed.TotalSeconds, _watch.Peak("server", name), end,
                cpuAfter.Server - cpu.Server, cpuAfter.Good - cpu.Good, cpuAfter.Bad - cpu.Bad, _watch.Peak("good", name), _watch.Peak("bad", name));
            var earlier = _phases.FindIndex(p => p.Name == name);
            if (earlier >= 0)
            {
                phase = _phases[earlier].Add(phase);
                _phases[earlier] = phase;
            }
            else
            {
                _phases.Add(phase);
            }
            Console.WriteLine($"  server RSS peak {phase.ServerPeakBytes / 1048576.0:N0} MiB, end {end / 1048576.0:N0} MiB; CPU s: server {phase.ServerCpuSeconds:N1}, good {phase.GoodCpuSeconds:N1}, bad {phase.BadCpuSeconds:N1}");
        }

        // The last column is the process beside the good clients: the control's busy threads, or the bad clients.
        private (double Server, double Good, double Bad) Cpu() =>
            (Seconds(_server), Seconds(_good), Seconds(_burner ?? _bad));

        private static double Seconds(ChildProcess? process) => process?.ProcessorTime().TotalSeconds ?? 0;

        /// <summary>Asks a client role to stop and reads its JSON; a role that does not answer in time is killed and reported.</summary>
        private async Task<T?> ResultOfAsync<T>(ChildProcess process, string role, TimeSpan timeout) where T : class
        {
            Send(process, "stop");
            try
            {
                return ResultJson.Read<T>(await process.JsonResultAsync(timeout));
            }
            catch (Exception e)
            {
                Problem($"the {role} gave no result: {Outcomes.Describe(e)}");
                process.Kill();
                return null;
            }
        }

        private void Send(ChildProcess? process, string line)
        {
            try
            {
                process?.Send(line);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                // It has exited; the watch reports when.
            }
        }

        private void KillAll()
        {
            _burner?.Kill();
            _bad?.Kill();
            _good?.Kill();
            _server?.Kill();
        }

        private void Problem(string text)
        {
            lock (_problems)
            {
                _problems.Add(text);
            }
            Console.Error.WriteLine("  " + text);
        }

        private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>The run's settings, as given on the command line.</summary>
internal sealed record SoakSettings(
    double Seconds, double ControlSeconds, double WarmupSeconds, double AfterSeconds, double HangSeconds, int Callers, int Objects, int RssBoundMiB, int RssKillMiB,
    BadPriority BadPriority, int ServerOpenFiles, double WindowSeconds, double PausedSeconds, string[] BadArguments)
{
    /// <summary>A bad client's call or stream is unanswered past the hang threshold plus the time its process may spend stopped.</summary>
    public double BadHangSeconds => HangSeconds + (PausedSeconds > 0 ? PausedSeconds + SoakRun.SettleSeconds : 0);
}

/// <summary>
/// The bad clients' process's CPU priority (--bad-priority): "idle" (the default) runs it under
/// SCHED_IDLE, so that it gets only CPU time nobody else wants, as if it ran on other machines; a number
/// from 1 to 19 runs it at that nice value; "normal" as the others.
/// </summary>
internal sealed record BadPriority(string Name, string[] Launcher, string Description)
{
    public static BadPriority Parse(string text) => text switch
    {
        "idle" => new(text, ["chrt", "--idle", "0"], "under SCHED_IDLE, running only on CPU time the others leave, as if on other machines"),
        "normal" => new(text, [], "at normal priority, its own work competing with the good clients' for the cores"),
        _ when int.TryParse(text, CultureInfo.InvariantCulture, out var nice) && nice is >= 1 and <= 19 =>
            new(text, ["nice", "-n", text], $"at nice {nice}"),
        _ => throw new ArgumentException($"--bad-priority takes idle, normal or a nice value from 1 to 19, not \"{text}\"."),
    };
}

/// <summary>What the coordinator measured over one phase.</summary>
internal sealed record PhaseMeasurement(
    string Name, double Seconds, long ServerPeakBytes, long ServerEndBytes, double ServerCpuSeconds, double GoodCpuSeconds, double BadCpuSeconds,
    long GoodPeakBytes, long BadPeakBytes)
{
    /// <summary>This phase with one more window of it, <paramref name="next"/>: times and CPU added, peaks the larger, the end the later.</summary>
    public PhaseMeasurement Add(PhaseMeasurement next) => this with
    {
        Seconds = Seconds + next.Seconds,
        ServerPeakBytes = Math.Max(ServerPeakBytes, next.ServerPeakBytes),
        ServerEndBytes = next.ServerEndBytes,
        ServerCpuSeconds = ServerCpuSeconds + next.ServerCpuSeconds,
        GoodCpuSeconds = GoodCpuSeconds + next.GoodCpuSeconds,
        BadCpuSeconds = BadCpuSeconds + next.BadCpuSeconds,
        GoodPeakBytes = Math.Max(GoodPeakBytes, next.GoodPeakBytes),
        BadPeakBytes = Math.Max(BadPeakBytes, next.BadPeakBytes),
    };
}

/// <summary>What became of the server process.</summary>
internal sealed record ServerFate(bool Survived, string? ExitedIn, int? ExitCode, string? KilledAtCap, long PeakBytes, long EndBytes, bool StoppedGracefully);

/// <summary>Everything one soak run measured.</summary>
internal sealed record SoakResult(
    List<PhaseMeasurement> Phases, GoodClientsResult? Good, BadClientsResult? Bad, ServerFate Server,
    Dictionary<string, ServerLog.PhaseLog> ServerLog, List<string> Problems);
