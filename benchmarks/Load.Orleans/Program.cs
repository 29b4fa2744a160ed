using SourceGenDO.Load.Orleans;

// The Orleans baseline speaks the same role protocol as the SourceGenDO and raw-gRPC load roles:
//   server --port <gatewayPort> --silo-port <siloPort>
//   client --port <gatewayPort> --scenario <seq|p64|p1024|objects1000|first-call> [--warmup <s>] [--seconds <s>]
const string Usage = """
    usage: SourceGenDO.Load.Orleans server --port <gatewayPort> --silo-port <siloPort>
           SourceGenDO.Load.Orleans client --port <gatewayPort> --scenario <seq|p64|p1024|objects1000|first-call> [--warmup <s>] [--seconds <s>]
    """;

try
{
    var role = args.Length > 0 ? args[0] : "";
    var options = new CommandLine(args.Skip(1).ToArray());
    return role switch
    {
        "server" => await SiloRole.RunAsync(options),
        "client" => await ClientRole.RunAsync(options),
        _ => throw new UsageException($"unknown role '{role}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}
