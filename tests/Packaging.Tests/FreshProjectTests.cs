using System.Diagnostics;
using Xunit.Abstractions;

namespace SourceGenDO.Packaging.Tests;

/// <summary>The packages as a user meets them: a fresh solution outside the repository restores them from a folder, builds, hosts and calls.</summary>
[Collection(PackedPackages.Collection)]
public sealed class FreshProjectTests(PackedPackages packages, ITestOutputHelper log)
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan ProgramTimeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task AFreshProjectReferencingOnlyThePackagesHostsAnObjectAndCallsItThroughItsGeneratedStub()
    {
        log.WriteLine($"packed SourceGenDO and SourceGenDO.Server {packages.Version} in {packages.PackTime.TotalSeconds:0.0} s");
        using var app = new TemporaryDirectory("fresh-app");
        await FreshProject.WriteAsync(app, packages.Feed, packages.Version);

        var stopwatch = Stopwatch.StartNew();
        // One build of both apps; no build nodes or compiler server outlive it (they would hold its output open).
        (await Command.RunAsync(
            Command.Dotnet(app.Path, "build", "App.slnx", "-c", FreshProject.Configuration, "-nodeReuse:false", "-p:UseSharedCompilation=false"),
            BuildTimeout)).EnsureSucceeded();
        log.WriteLine($"restored and built the fresh solution in {stopwatch.Elapsed.TotalSeconds:0.0} s");

        // Restored from the folder into the solution's own packages folder, at the version just packed.
        Assert.True(Directory.Exists(app.Combine("packages", "sourcegendo", packages.Version)), "SourceGenDO was not restored from the local folder.");
        Assert.True(Directory.Exists(app.Combine("packages", "sourcegendo.server", packages.Version)), "SourceGenDO.Server was not restored from the local folder.");
        log.WriteLine($"packages restored into the solution's own folder (the rest came from the machine's): {string.Join(", ", Directory.GetDirectories(app.Combine("packages")).Select(Path.GetFileName).Order())}");

        var data = app.Combine("data");
        var server = Output("Server", "Server.dll");
        var client = Output("Client", "Client.dll");
        Assert.Equal(["apples 5", "apples 6", "refused: Counter apples would go below zero."], await RunOnceAsync());
        // A new server process over the same data directory: the count was stored (in SQLite) by the first.
        Assert.Equal(["apples 11", "apples 12", "refused: Counter apples would go below zero."], await RunOnceAsync());
        Assert.True(File.Exists(Path.Combine(data, "objects.db")), "The server kept no SQLite file in its data directory.");

        async Task<string[]> RunOnceAsync()
        {
            using var running = Command.Start(Command.Dotnet(app.Path, server, data));
            var address = await running.WaitForLineAsync("listening ", ProgramTimeout);
            var called = (await Command.RunAsync(Command.Dotnet(app.Path, client, address), ProgramTimeout)).EnsureSucceeded();
            var exitCode = await running.StopAsync(ProgramTimeout);
            Assert.True(exitCode == 0, $"The server exited with {exitCode} on SIGTERM. Output:{Environment.NewLine}{running.Output}");
            return called.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        string Output(string project, string assembly) => app.Combine(project, "bin", FreshProject.Configuration, "net10.0", assembly);
    }
}
