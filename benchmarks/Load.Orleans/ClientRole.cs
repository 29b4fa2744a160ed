using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SourceGenDO.Load.Orleans;

/// <summary>
/// The <c>client</c> role: connects to the silo's gateway and runs one scenario. Load scenarios need the silo up
/// already and fail at once when it is not; only <c>first-call</c> waits for it.
/// </summary>
internal static class ClientRole
{
    public const string SystemName = "orleans";

    public static async Task<int> RunAsync(CommandLine options)
    {
        var gatewayPort = options.GetInt("port");
        var scenarioName = options.GetString("scenario");
        if (scenarioName == "first-call")
        {
            return await FirstCallProbe.RunAsync(gatewayPort);
        }

        var scenario = Scenario.Parse(scenarioName);
        var warmup = TimeSpan.FromSeconds(options.GetSeconds("warmup", 2));
        var measured = TimeSpan.FromSeconds(options.GetSeconds("seconds", 10));

        // Orleans' default retry filter keeps redialling a missing gateway for about 3 minutes (15 tries, 1.5 s * n
        // apart); the load scenarios expect the server up already, so they try once.
        using var host = BuildHost(gatewayPort, client => client.UseConnectionRetryFilter(static (_, _) => Task.FromResult(false)));
        try
        {
            await host.StartAsync();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(
                $"error: cannot connect to the Orleans gateway at localhost:{gatewayPort} (is the server role running?): {e.Message}");
            return 1;
        }

        var result = await ClosedLoop.RunAsync(host.Services.GetRequiredService<IClusterClient>(), scenario, warmup, measured,
            options.GetInt("server-pid", 0) is var pid and > 0 ? pid : null);
        ResultJsonContext.WriteLine(result);

        await host.StopAsync();
        return 0;
    }

    /// <summary>An Orleans client host for the localhost gateway; <paramref name="configure"/> adds to it.</summary>
    public static IHost BuildHost(int gatewayPort, Action<IClientBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.UseBenchmarkLogging();
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(gatewayPort);
            configure(client);
        });
        return builder.Build();
    }
}
