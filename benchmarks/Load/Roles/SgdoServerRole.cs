namespace SourceGenDO.Load.Roles;

/// <summary>A SourceGenDO server hosting <see cref="BenchCounter"/>, as a user would host it.</summary>
internal static class SgdoServerRole
{
    public static async Task RunAsync(Arguments arguments)
    {
        var builder = ServerLifetime.CreateBuilder(arguments);
        builder.Services.AddDurableObjects(options =>
        {
            options.AddNamespace<BenchCounter>("COUNTERS");
            options.DataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-load");
            options.IdleTimeout = TimeSpan.FromMinutes(5);
        });
        var app = builder.Build();
        app.MapDurableObjects();
        await ServerLifetime.RunUntilStdinClosesAsync(app);
    }
}
