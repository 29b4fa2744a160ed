using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace SourceGenDO.Load.Coordinator;

/// <summary>
/// The <c>sockets</c> command: the server's memory with many open idle WebSockets over many rooms, once
/// with the rooms hibernated (evicted after the idle time, sockets kept by the namespace) and once with
/// their instances kept live (<c>HibernateWebSockets = false</c>), each on a fresh server; reports both
/// and their ratio, and writes <c>sockets-latest.md</c>.
/// </summary>
internal static class SocketMemoryRun
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var root = BenchmarkRun.RepositoryRoot();
        var sockets = arguments.GetInt("sockets", 10_000);
        var rooms = arguments.GetInt("rooms", 1_000);
        var idleSeconds = arguments.GetDouble("idle-seconds", 2);
        var roomKib = arguments.GetInt("room-kib", 0);
        var output = Path.GetFullPath(arguments.Get("out") ?? Path.Combine(root, "benchmarks", "results"));
        Directory.CreateDirectory(output);
        var loadDll = BenchmarkRun.Publish(root, "benchmarks/Load", Path.Combine(root, "benchmarks", "Load", "bin", "published", "load"), "SourceGenDO.Load.dll");

        var hibernated = await MeasureAsync(loadDll, hibernate: true, sockets, rooms, idleSeconds, roomKib);
        var live = await MeasureAsync(loadDll, hibernate: false, sockets, rooms, idleSeconds, roomKib);

        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"# Server memory with {sockets:N0} open idle WebSockets over {rooms:N0} rooms, each room instance holding {roomKib} KiB of state")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{BenchmarkRun.Environment()}; idle timeout {idleSeconds} s; measured after {3 * idleSeconds + 2} s idle and a full GC.")
            .AppendLine()
            .AppendLine("| rooms | live instances | open sockets | server RSS | RSS over the empty server | managed heap | managed over the empty server |")
            .AppendLine("|---|---:|---:|---:|---:|---:|---:|")
            .AppendLine(hibernated.Row("hibernated"))
            .AppendLine(live.Row("kept live"))
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"Live over hibernated: RSS {Ratio(live.Rss, hibernated.Rss)}, RSS above the empty server {Ratio(live.Rss - live.EmptyRss, hibernated.Rss - hibernated.EmptyRss)}, managed heap above the empty server {Ratio(live.Managed - live.EmptyManaged, hibernated.Managed - hibernated.EmptyManaged)}.")
            .ToString();
        var file = Path.Combine(output, roomKib == 0 ? "sockets-latest.md" : $"sockets-room{roomKib}k-latest.md");
        await File.WriteAllTextAsync(file, report);
        Console.WriteLine();
        Console.WriteLine(report);
        Console.WriteLine($"Written to {file}");
        return 0;
    }

    private static string Ratio(long a, long b) => b <= 0 ? "n/a" : (a / (double)b).ToString("0.00", CultureInfo.InvariantCulture) + "x";

    private static async Task<SocketMemory> MeasureAsync(string loadDll, bool hibernate, int sockets, int rooms, double idleSeconds, int roomKib)
    {
        var port = Systems.Ports.Free().Main;
        var serverLines = new ConcurrentQueue<string>();
        await using var server = ChildProcess.Start(loadDll, line => Keep(serverLines, line, "MEASURED "), [],
            "server", "--system", "sockets", "--port", port, "--hibernate", hibernate ? "true" : "false",
            "--idle-seconds", idleSeconds.ToString(CultureInfo.InvariantCulture), "--room-kib", roomKib.ToString(CultureInfo.InvariantCulture));
        await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(1000);
        var empty = await MeasureServerAsync(server, serverLines);

        var clientLines = new ConcurrentQueue<string>();
        var client = ChildProcess.Start(loadDll, line => Keep(clientLines, line, "CONNECTED ", "STILL-OPEN "), [],
            "client", "--system", "sockets", "--port", port,
            "--sockets", sockets.ToString(CultureInfo.InvariantCulture), "--rooms", rooms.ToString(CultureInfo.InvariantCulture));
        (int Instances, int Sockets, long Rss, long Managed) loaded;
        try
        {
            await WaitForLineAsync(clientLines, "CONNECTED ", TimeSpan.FromMinutes(10), client);
            // Long enough for the evictor to find every room idle, a few times over.
            await Task.Delay(TimeSpan.FromSeconds(3 * idleSeconds + 2));
            loaded = await MeasureServerAsync(server, serverLines);
        }
        finally
        {
            // Closing its input makes the client check its sockets, print STILL-OPEN and exit.
            await client.DisposeAsync();
        }
        var stillOpen = clientLines.FirstOrDefault(line => line.StartsWith("STILL-OPEN ", StringComparison.Ordinal)) ?? "STILL-OPEN ?";
        var result = new SocketMemory(loaded.Instances, loaded.Sockets, loaded.Rss, loaded.Managed, empty.Rss, empty.Managed);
        Console.WriteLine($"{(hibernate ? "hibernated" : "kept live"),-10}: {result.Instances:N0} live instances, {result.Sockets:N0} open sockets ({stillOpen["STILL-OPEN ".Length..]} still open at the client afterwards), server RSS {result.Rss / 1048576.0:N1} MiB (empty {result.EmptyRss / 1048576.0:N1} MiB), managed {result.Managed / 1048576.0:N1} MiB (empty {result.EmptyManaged / 1048576.0:N1} MiB)");
        return result;
    }

    private static void Keep(ConcurrentQueue<string> lines, string line, params string[] prefixes)
    {
        if (prefixes.Any(prefix => line.StartsWith(prefix, StringComparison.Ordinal)))
        {
            lines.Enqueue(line);
        }
    }

    private static async Task<(int Instances, int Sockets, long Rss, long Managed)> MeasureServerAsync(ChildProcess server, ConcurrentQueue<string> lines)
    {
        lines.Clear();
        server.Send("measure");
        var line = await WaitForLineAsync(lines, "MEASURED ", TimeSpan.FromMinutes(2), server);
        var parts = line.Split(' ');
        // After the collection, so that garbage from connecting does not count.
        await Task.Delay(500);
        return (int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture), server.ResidentBytes(),
            long.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    private static async Task<string> WaitForLineAsync(ConcurrentQueue<string> lines, string prefix, TimeSpan timeout, ChildProcess process)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (lines.FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal)) is { } found)
            {
                return found;
            }
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The {prefix.Trim()} line never came: the process exited with {process.ExitCode}.");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The {prefix.Trim()} line did not come within {timeout}.");
            }
            await Task.Delay(100);
        }
    }

    private sealed record SocketMemory(int Instances, int Sockets, long Rss, long Managed, long EmptyRss, long EmptyManaged)
    {
        public string Row(string mode) => string.Create(CultureInfo.InvariantCulture,
            $"| {mode} | {Instances:N0} | {Sockets:N0} | {Rss / 1048576.0:N1} MiB | {(Rss - EmptyRss) / 1048576.0:N1} MiB | {Managed / 1048576.0:N1} MiB | {(Managed - EmptyManaged) / 1048576.0:N1} MiB |");
    }
}
