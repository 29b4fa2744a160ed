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
        if (Environment.GetEnvironmentVariable("SGDO_LOAD_GC_REPORT") is not null)
        {
            Console.Error.WriteLine($"server allocated {GC.GetTotalAllocatedBytes() / 1048576.0:N1} MiB, gen0 {GC.CollectionCount(0)} gen1 {GC.CollectionCount(1)} gen2 {GC.CollectionCount(2)}, heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:N1} MiB");
        }
    }
}
