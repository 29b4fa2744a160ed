namespace SourceGenDO.Load.Roles;

/// <summary>How every server role runs: start, print READY, stop when the coordinator closes standard input.</summary>
internal static class ServerLifetime
{
    public static async Task RunUntilStdinClosesAsync(WebApplication app)
    {
        await app.StartAsync();
        Console.WriteLine("READY");
        Console.Out.Flush();
        await Task.Run(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }
        });
        await app.StopAsync();
    }
}
