namespace SourceGenDO.Load.Roles;

/// <summary>
/// Drives a scenario through generated <see cref="BenchCounterStub"/>s (a durable scenario:
/// <see cref="DurableCounterStub"/>s), one stub per object.
/// </summary>
internal static class SgdoClientRole
{
    public static async Task<ScenarioResult> RunAsync(Arguments arguments, Scenario scenario)
    {
        TelemetryListener.Start(arguments);
        var address = new Uri($"http://127.0.0.1:{arguments.Require("port")}");
        await using var client = await DurableObjectClient.ConnectAsync(address);
        if (scenario.Durable)
        {
            return await RunDurableAsync(arguments, scenario, client);
        }
        var counters = client.GetNamespace<BenchCounterStub>(SgdoServerRole.Counters);
        var stubs = Enumerable.Range(0, scenario.Objects).Select(i => counters.GetByName($"counter-{i}")).ToArray();
        return await scenario.RunAsync("sourcegendo",
            (caller, n) => stubs[scenario.ObjectFor(caller, n)].Increment(1),
            arguments.GetDouble("warmup", 2), arguments.GetDouble("seconds", 10), ServerPid(arguments));
    }

    /// <summary>
    /// Each call one durable increment; afterwards the counters' sum must equal the calls that completed,
    /// so that every measured call was one real write.
    /// </summary>
    private static async Task<ScenarioResult> RunDurableAsync(Arguments arguments, Scenario scenario, DurableObjectClient client)
    {
        var counters = client.GetNamespace<DurableCounterStub>(SgdoServerRole.DurableCounters);
        var stubs = Enumerable.Range(0, scenario.Objects).Select(i => counters.GetByName($"counter-{i}")).ToArray();
        var result = await scenario.RunAsync("sourcegendo",
            (caller, n) => stubs[scenario.ObjectFor(caller, n)].Increment(1),
            arguments.GetDouble("warmup", 2), arguments.GetDouble("seconds", 10), ServerPid(arguments));
        var stored = (await Task.WhenAll(stubs.Select(stub => stub.Increment(0)))).Sum();
        if (stored != result.CompletedCalls)
        {
            throw new InvalidOperationException($"The counters hold {stored:N0} increments, but {result.CompletedCalls:N0} calls completed.");
        }
        return result;
    }

    public static async Task<ScenarioResult> FirstCallAsync(Arguments arguments)
    {
        var address = new Uri($"http://127.0.0.1:{arguments.Require("port")}");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await using var client = await DurableObjectClient.ConnectAsync(address);
                await client.GetNamespace<BenchCounterStub>(SgdoServerRole.Counters).GetByName("first").Increment(1);
                return new ScenarioResult("sourcegendo", "first-call", FirstCallUnixMs: DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            }
            catch (DurableObjectException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }
        }
    }

    public static int? ServerPid(Arguments arguments) => arguments.Get("server-pid") is { } pid ? int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture) : null;
}
