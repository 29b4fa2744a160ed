using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SourceGenDO.Load.Orleans;

/// <summary>
/// The <c>server</c> role: one localhost silo hosting <see cref="CounterGrain"/>. Prints <c>READY</c> once it
/// serves, and stops when stdin reaches end of file (the coordinator closes it) or on SIGTERM/Ctrl+C.
/// </summary>
internal static class SiloRole
{
    public static async Task<int> RunAsync(CommandLine options)
    {
        var gatewayPort = options.GetInt("port");
        var siloPort = options.GetInt("silo-port");

        // DisableDefaults: no appsettings.json or environment variables can change what is measured.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.UseBenchmarkLogging();
        builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort));

        using var host = builder.Build();
        await host.StartAsync();

        // StartAsync returns once the silo lifecycle is active, gateway included.
        Console.Out.WriteLine("READY");
        Console.Out.Flush();

        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        await Task.WhenAny(WaitForStdinEndAsync(), Task.Delay(Timeout.Infinite, stopping));

        await host.StopAsync();
        return 0;
    }

    /// <summary>Completes when stdin reaches end of file; reads on its own thread because console reads block.</summary>
    private static Task WaitForStdinEndAsync() => Task.Factory.StartNew(
        static () =>
        {
            using var stdin = Console.OpenStandardInput();
            var buffer = new byte[256];
            while (stdin.Read(buffer) > 0)
            {
            }
        },
        CancellationToken.None,
        TaskCreationOptions.LongRunning,
        TaskScheduler.Default);
}
