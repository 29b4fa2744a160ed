using SourceGenDO.Load;
using SourceGenDO.Soak.Coordinator;
using SourceGenDO.Soak.Roles;

namespace SourceGenDO.Soak;

/// <summary>
/// One executable, several roles: the coordinator (the default) starts the others as separate processes.
///   [run] [--seconds 120] [--warmup 5] [--after 5] [--hang-seconds 10] [--rss-bound-mib 1024] [--out dir] [bad client options]
///   server --port P
///   good --port P [--callers 64] [--objects 16] [--hang-seconds 10]
///   bad --port P [bad client options, see BadClientsRole]
///   burn (the control phase's busy threads)
/// </summary>
internal static class SoakProgram
{
    // Not top-level statements: the load benchmark's assembly, whose internals this one sees, has its own Program.
    private static async Task<int> Main(string[] args)
    {
        var role = args.FirstOrDefault() is { } first && !first.StartsWith("--", StringComparison.Ordinal) ? first : "run";
        var arguments = new Arguments(args);
        switch (role)
        {
            case "run":
                return await SoakRun.RunAsync(arguments);
            case "server":
                await SoakServerRole.RunAsync(arguments);
                return 0;
            case "good":
                return await GoodClientsRole.RunAsync(arguments);
            case "bad":
                return await BadClientsRole.RunAsync(arguments);
            case "burn":
                return await BurnerRole.RunAsync();
            default:
                Console.Error.WriteLine($"Unknown role \"{role}\": use run, server, good, bad or burn.");
                return 2;
        }
    }
}
