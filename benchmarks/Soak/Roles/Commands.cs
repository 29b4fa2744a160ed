namespace SourceGenDO.Soak.Roles;

/// <summary>The lines the coordinator sends a role on standard input; the end of input (the coordinator is gone) reads as "stop".</summary>
internal static class Commands
{
    public static async IAsyncEnumerable<string> ReadAsync()
    {
        while (true)
        {
            // On a thread of its own: Console.In blocks.
            var line = await Task.Factory.StartNew(Console.In.ReadLine, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            if (line is null)
            {
                yield return "stop";
                yield break;
            }
            yield return line.Trim();
        }
    }
}
