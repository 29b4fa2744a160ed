using SourceGenDO.Load;
using SourceGenDO.Load.Coordinator;
using SourceGenDO.Load.Roles;

// One executable, several roles: the coordinator ("run") starts the others as separate processes.
//   run [--rounds 3] [--warmup 2] [--seconds 10] [--scenarios seq,p64] [--systems sourcegendo,raw] [--out dir]
//   run --systems sourcegendo,sourcegendo-base --compare-with <another checkout> [...]   two builds, interleaved
//   durable [--rounds 3] [--warmup 2] [--seconds 10] [--scenarios durable-seq,durable-p64,durable-objects1000,memory] [--out dir]
//   telemetry [--rounds 3] [--warmup 2] [--seconds 5] [--scenarios seq,p64] [--modes off,metrics,all] [--out dir]   listeners' cost, ratio to none in one run
//   sockets [--sockets 10000] [--rooms 1000] [--room-kib 0] [--idle-seconds 2] [--out dir]   server memory, hibernated vs live
//   server --system sourcegendo|raw --port P [--data DIR] [--telemetry off|metrics|all]
//   server --system sockets --port P [--hibernate true|false] [--idle-seconds 2] [--room-kib 0]
//   client --system sockets --port P [--sockets 10000] [--rooms 1000]
//   client --system sourcegendo|raw|raw-packed --scenario seq|p64|p1024|objects1000|first-call --port P [--server-pid N] [--telemetry off|metrics|all]
//   client --system sourcegendo --scenario durable-seq|durable-p64|durable-objects1000|memory --port P [--server-pid N]
//   client --system sqlite-tx --scenario durable-seq|durable-p64|durable-objects1000 --data DIR [--connections one|each]
var role = args.FirstOrDefault() ?? "run";
var arguments = new Arguments(args);
switch (role)
{
    case "run":
        return await BenchmarkRun.RunAsync(arguments);
    case "durable":
        return await DurableRun.RunAsync(arguments);
    case "sockets":
        return await SocketMemoryRun.RunAsync(arguments);
    case "telemetry":
        return await TelemetryRun.RunAsync(arguments);
    case "server":
        await (arguments.Require("system") switch
        {
            "sourcegendo" => SgdoServerRole.RunAsync(arguments),
            "raw" or "kestrel" => RawServerRole.RunAsync(arguments),
            "sockets" => SocketServerRole.RunAsync(arguments),
            var other => throw new ArgumentException($"Unknown server system \"{other}\"."),
        });
        return 0;
    case "client":
        var system = arguments.Require("system");
        if (system == "sockets")
        {
            await SocketClientRole.RunAsync(arguments);
            return 0;
        }
        var scenarioName = arguments.Require("scenario");
        if (scenarioName == "memory")
        {
            Console.WriteLine((await SgdoMemoryClientRole.RunAsync(arguments)).ToJson());
            return 0;
        }
        var result = scenarioName == "first-call"
            ? await (system == "sourcegendo" ? SgdoClientRole.FirstCallAsync(arguments) : RawClientRole.FirstCallAsync(arguments))
            : await (system switch
            {
                "sourcegendo" => SgdoClientRole.RunAsync(arguments, Scenario.Named(scenarioName)),
                "raw" => RawClientRole.RunAsync(arguments, Scenario.Named(scenarioName), packed: false),
                "raw-packed" => RawClientRole.RunAsync(arguments, Scenario.Named(scenarioName), packed: true),
                "sqlite-tx" => SqliteTxClientRole.RunAsync(arguments, Scenario.Named(scenarioName)),
                var other => throw new ArgumentException($"Unknown client system \"{other}\"."),
            });
        Console.WriteLine(result.ToJson());
        return 0;
    default:
        Console.Error.WriteLine($"Unknown role \"{role}\": use run, durable, sockets, telemetry, server or client.");
        return 2;
}
