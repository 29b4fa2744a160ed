using System.Net;
using SourceGenDO.Load;
using SourceGenDO.Soak.BadClients;

namespace SourceGenDO.Soak.Roles;

/// <summary>
/// The bad clients' process: every kind at once, each running until the coordinator says "stop" (or
/// closes standard input); prints what each did and saw as one JSON line.
/// Options (defaults): --slow-readers 4, --slow-reader-calls 250000, --malformed-streams 4,
/// --malformed-per-second 200, --silent-sockets 300, --flood-connections 2, --flood-burst 150000,
/// --flood-pause 2, --oversize-calls 1000, --oversize-length 40000, --oversize-pause 1, --hang-seconds 10,
/// --only kind,kind (slow,malformed,silent,control,flood,oversize).
/// </summary>
internal static class BadClientsRole
{
    public static readonly string[] Kinds = ["slow", "malformed", "silent", "control", "flood", "oversize"];

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var port = arguments.GetInt("port", 0);
        var address = new Uri($"http://127.0.0.1:{port}");
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        var hang = TimeSpan.FromSeconds(arguments.GetDouble("hang-seconds", 10));
        var only = (arguments.Get("only") ?? string.Join(',', Kinds)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        // The raw clients need ids; a client's handshake gives the namespace's key.
        var idClient = await DurableObjectClient.ConnectAsync(address);
        var wire = new RawWire(address, idClient.GetNamespace<SoakObjectStub>(SoakServerRole.Namespace));
        var clients = new List<BadClient>();
        foreach (var kind in only)
        {
            clients.Add(kind switch
            {
                "slow" => new SlowReaders(wire, arguments.GetInt("slow-readers", 4), arguments.GetInt("slow-reader-calls", 250_000), hang),
                "malformed" => new MalformedFrames(wire, arguments.GetInt("malformed-streams", 4), arguments.GetDouble("malformed-per-second", 200), hang),
                "silent" => new SilentSockets(endpoint, arguments.GetInt("silent-sockets", 300), hang),
                "control" => new ControlFrameFlood(endpoint, arguments.GetInt("flood-connections", 2), hang),
                "flood" => new CallFlood(address, arguments.GetInt("flood-burst", 150_000), TimeSpan.FromSeconds(arguments.GetDouble("flood-pause", 2)), hang),
                "oversize" => new OversizeErrors(address, arguments.GetInt("oversize-calls", 1000), arguments.GetInt("oversize-length", 40_000),
                    TimeSpan.FromSeconds(arguments.GetDouble("oversize-pause", 1)), hang),
                _ => throw new ArgumentException($"Unknown bad client \"{kind}\"; known: {string.Join(", ", Kinds)}."),
            });
        }

        using var stop = new CancellationTokenSource();
        var runs = clients.Select(client => client.RunUntilStoppedAsync(stop.Token)).ToArray();
        // READY once every kind is at it, or after the hang threshold (a kind that could not start reports why).
        await Task.WhenAny(Task.WhenAll(clients.Select(client => client.Started)), Task.Delay(hang));
        Console.WriteLine("READY");
        await foreach (var command in Commands.ReadAsync())
        {
            if (command == "stop")
            {
                break;
            }
        }
        await stop.CancelAsync();
        var results = await Task.WhenAll(runs);
        Console.WriteLine(ResultJson.Write(new BadClientsResult([.. results])));
        Console.Out.Flush();
        // Exits without disposing anything: connections of the bad kind may never close cleanly.
        GC.KeepAlive(idClient);
        Environment.Exit(0);
        return 0;
    }
}
