namespace SourceGenDO.Soak.Roles;

/// <summary>
/// The control phase's process: one busy thread per core and nothing else, started at the bad clients'
/// priority. What it costs the good clients is what sharing the cores with another process costs them
/// on this machine, without any work for the server.
/// </summary>
internal static class BurnerRole
{
    public static async Task<int> RunAsync()
    {
        var stop = 0;
        var threads = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new Thread(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                Thread.SpinWait(1000);
            }
        }) { IsBackground = true }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }
        Console.WriteLine("READY");
        await foreach (var command in Commands.ReadAsync())
        {
            if (command == "stop")
            {
                break;
            }
        }
        Volatile.Write(ref stop, 1);
        return 0;
    }
}
