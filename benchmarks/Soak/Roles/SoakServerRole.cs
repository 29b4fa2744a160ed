using SourceGenDO.Load;
using SourceGenDO.Load.Roles;

namespace SourceGenDO.Soak.Roles;

/// <summary>A SourceGenDO server hosting <see cref="SoakObject"/> with the defaults of <c>AddDurableObjects</c>, as a user would host it.</summary>
internal static class SoakServerRole
{
    public const string Namespace = "SOAK";

    public static async Task RunAsync(Arguments arguments)
    {
        var builder = ServerLifetime.CreateBuilder(arguments);
        builder.Services.AddDurableObjects(options =>
        {
            options.AddNamespace<SoakObject>(Namespace);
            options.DataDirectory = Path.Combine(Path.GetTempPath(), "sgdo-soak");
        });
        var app = builder.Build();
        app.MapDurableObjects();
        await ServerLifetime.RunUntilStdinClosesAsync(app);
    }
}
