using SourceGenDO.Load;

namespace SourceGenDO.Soak.Roles;

/// <summary>
/// The good clients' process: one <see cref="DurableObjectClient"/> and a <see cref="GoodClientLoop"/>,
/// driven by the coordinator through standard input ("phase NAME", "pause", "stop"); prints its result
/// as one JSON line.
/// </summary>
internal static class GoodClientsRole
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var address = new Uri($"http://127.0.0.1:{arguments.Require("port")}");
        var hangThreshold = TimeSpan.FromSeconds(arguments.GetDouble("hang-seconds", 10));
        var client = await DurableObjectClient.ConnectAsync(address);
        var objects = client.GetNamespace<SoakObjectStub>(SoakServerRole.Namespace);
        var loop = new GoodClientLoop(objects, arguments.GetInt("callers", 64), arguments.GetInt("objects", 16), hangThreshold);
        loop.Start();
        Console.WriteLine("READY");
        await foreach (var command in Commands.ReadAsync())
        {
            if (command == "stop")
            {
                break;
            }
            if (command == "pause")
            {
                loop.EndPhase();
            }
            else if (command.StartsWith("phase ", StringComparison.Ordinal))
            {
                loop.BeginPhase(command["phase ".Length..]);
            }
        }
        var result = await loop.StopAsync();
        Console.WriteLine(ResultJson.Write(result));
        Console.Out.Flush();
        // The client is not disposed: one whose stream hangs (what the soak looks for) must not keep the
        // process from exiting; the process's exit closes its connection.
        GC.KeepAlive(client);
        return 0;
    }
}
