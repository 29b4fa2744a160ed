using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SourceGenDO.TestObjects;

namespace SourceGenDO.Server.Tests.Storage;

/// <summary>
/// The start-up warning for a SQLite data directory inside the content root that the configuration's
/// reload watches (every commit would wake the file watcher), on a real host with its real configuration.
/// </summary>
public sealed class WatchedDataDirectoryTests
{
    private const string Warning = "which the host's configuration watches for changes";

    private static async Task<List<string>> StartAndStopAsync(string contentRoot, string dataDirectory, params string[] args)
    {
        var logs = new CapturedLogs();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = contentRoot, Args = args });
        builder.Logging.AddProvider(logs);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddDurableObjects(options =>
        {
            options.AddNamespace<Counter>("COUNTERS");
            options.DataDirectory = dataDirectory;
        });
        await using var app = builder.Build();
        await app.StartAsync();
        await app.StopAsync();
        return [.. logs.Entries.Where(entry => entry.Level == LogLevel.Warning).Select(entry => entry.Message)];
    }

    [Fact]
    public async Task ADataDirectoryInsideTheWatchedContentRootIsWarnedAboutWithBothWaysOut()
    {
        using var root = new TempDirectory();
        var inside = Path.Combine(root.Path, "sgdo-data");

        var warnings = await StartAndStopAsync(root.Path, inside);

        var warning = Assert.Single(warnings, message => message.Contains(Warning));
        Assert.Contains(inside, warning);
        Assert.Contains("DurableObjectsOptions.DataDirectory", warning);
        Assert.Contains("DOTNET_hostBuilder__reloadConfigOnChange=false", warning);
    }

    [Fact]
    public async Task ADataDirectoryOutsideTheContentRootOrAHostWithoutReloadGetsNoWarning()
    {
        using var root = new TempDirectory();
        using var elsewhere = new TempDirectory();

        var sibling = root.Path + "-data";
        try
        {
            Assert.DoesNotContain(await StartAndStopAsync(root.Path, elsewhere.Path), message => message.Contains(Warning));
            // A sibling whose name starts like the root's is not inside it.
            Assert.DoesNotContain(await StartAndStopAsync(root.Path, sibling), message => message.Contains(Warning));
            Assert.DoesNotContain(
                await StartAndStopAsync(root.Path, Path.Combine(root.Path, "sgdo-data"), "--hostBuilder:reloadConfigOnChange=false"),
                message => message.Contains(Warning));
        }
        finally
        {
            if (Directory.Exists(sibling))
            {
                Directory.Delete(sibling, recursive: true);
            }
        }
    }
}
