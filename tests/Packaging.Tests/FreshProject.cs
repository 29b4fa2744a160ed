using System.Security;

namespace SourceGenDO.Packaging.Tests;

/// <summary>
/// A new solution outside the repository, as a user would start one: a server app referencing only the
/// SourceGenDO.Server package and a client app referencing only SourceGenDO, both compiling the same
/// durable object class; no project references into the repository and no repository build files.
/// </summary>
internal static class FreshProject
{
    /// <summary>The configuration the fresh solution is built in.</summary>
    public const string Configuration = "Release";

    /// <summary>
    /// Writes the solution into <paramref name="directory"/>, restoring from <paramref name="feed"/> and the
    /// sources this machine has configured, into a packages folder of its own (so nothing it restores
    /// lands in the machine's NuGet cache) with the machine's cache as a read-only fallback (so the
    /// packages SourceGenDO depends on are found without a download).
    /// </summary>
    public static async Task WriteAsync(TemporaryDirectory directory, string feed, string version)
    {
        // Asked before this directory has a nuget.config: what any project outside the repository sees here.
        var (sources, machinePackages) = await MachineNuGetAsync(directory.Path);

        directory.Write("nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Xml(directory.Combine("packages"))}" />
              </config>
              <fallbackPackageFolders>
                <clear />
                <add key="machine" value="{Xml(machinePackages)}" />
              </fallbackPackageFolders>
              <packageSources>
                <clear />
                <add key="local" value="{Xml(feed)}" />
            {string.Concat(sources.Select((source, index) => $"    <add key=\"machine{index}\" value=\"{Xml(source)}\" />\n"))}  </packageSources>
              <packageSourceMapping>
                <clear />
              </packageSourceMapping>
            </configuration>
            """);
        // MSBuild looks for these in every parent directory: empty ones here stop the search, so no build
        // file of a parent (a temp folder someone else uses) takes part.
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            directory.Write(file, "<Project />\n");
        }
        directory.Write("App.slnx", """
            <Solution>
              <Project Path="Server/Server.csproj" />
              <Project Path="Client/Client.csproj" />
            </Solution>
            """);

        directory.Write("Shared/Counter.cs", """
            using SourceGenDO;

            namespace FreshApp;

            public class Counter(DurableObjectState ctx) : DurableObject(ctx)
            {
                public async Task<long> Increment(long amount = 1)
                {
                    long value = await Ctx.Storage.GetAsync<long>("value") + amount;
                    Ctx.Storage.Put("value", value);
                    return value;
                }

                public async Task<long> Decrement(long amount)
                {
                    long value = await Ctx.Storage.GetAsync<long>("value");
                    if (value < amount)
                    {
                        throw new InvalidOperationException($"Counter {Ctx.Id.Name} would go below zero.");
                    }
                    Ctx.Storage.Put("value", value - amount);
                    return value - amount;
                }
            }
            """);

        directory.Write("Server/Server.csproj", ProjectFile("Microsoft.NET.Sdk.Web", "SourceGenDO.Server", version));
        directory.Write("Server/Program.cs", """
            using System.Net;
            using FreshApp;
            using Microsoft.AspNetCore.Server.Kestrel.Core;
            using SourceGenDO;

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
            builder.Services.AddDurableObjects(o =>
            {
                o.AddNamespace<Counter>("COUNTERS");
                o.DataDirectory = args[0];
            });
            var app = builder.Build();
            app.MapDurableObjects();
            await app.StartAsync();
            Console.WriteLine($"listening {app.Urls.First()}");
            await app.WaitForShutdownAsync();
            """);

        directory.Write("Client/Client.csproj", ProjectFile("Microsoft.NET.Sdk", "SourceGenDO", version));
        directory.Write("Client/Program.cs", """
            using FreshApp;
            using SourceGenDO;

            await using var client = await DurableObjectClient.ConnectAsync(new Uri(args[0]));
            var counters = client.GetNamespace<CounterStub>("COUNTERS");
            CounterStub apples = counters.GetByName("apples");
            Console.WriteLine($"apples {await apples.Increment(5)}");
            Console.WriteLine($"apples {await apples.Increment()}");
            try
            {
                await apples.Decrement(1_000);
            }
            catch (InvalidOperationException e) when (e.IsRemote())
            {
                Console.WriteLine($"refused: {e.Message}");
            }
            """);
    }

    /// <summary>An app compiling the shared object class, referencing <paramref name="package"/> and nothing else.</summary>
    private static string ProjectFile(string sdk, string package, string version) => $"""
        <Project Sdk="{sdk}">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            <!-- The AOT and trim analyzers check the app and the code generated into it. -->
            <PublishAot>true</PublishAot>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="{package}" Version="{version}" />
            <Compile Include="../Shared/Counter.cs" />
          </ItemGroup>
        </Project>
        """;

    /// <summary>The enabled package sources and the global packages folder that NuGet sees from <paramref name="directory"/>.</summary>
    private static async Task<(IReadOnlyList<string> Sources, string GlobalPackages)> MachineNuGetAsync(string directory)
    {
        var listed = Command.RunAsync(Command.Dotnet(directory, "nuget", "list", "source", "--format", "short"), TimeSpan.FromMinutes(1));
        var locals = Command.RunAsync(Command.Dotnet(directory, "nuget", "locals", "global-packages", "--list"), TimeSpan.FromMinutes(1));
        // "E <source>" per enabled source ("D" for a disabled one).
        var sources = Lines(await listed)
            .Where(line => line.StartsWith("E ", StringComparison.Ordinal))
            .Select(line => line[2..].Trim())
            .ToList();
        // "global-packages: <folder>"; NUGET_PACKAGES, which Command.Dotnet removes, overrides the configured folder.
        var configured = Lines(await locals).Single(line => line.StartsWith("global-packages: ", StringComparison.Ordinal))["global-packages: ".Length..];
        var globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } fromEnvironment ? fromEnvironment : configured;
        return (sources, globalPackages);
    }

    private static IEnumerable<string> Lines(CommandResult result) =>
        result.EnsureSucceeded().Output.Split('\n').Select(line => line.Trim());

    private static string Xml(string text) => SecurityElement.Escape(text);
}
