using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace SourceGenDO.Packaging.Tests;

/// <summary>
/// The samples published with Native AOT (each sets PublishAot), with no trimming or AOT warning, and run
/// as native binaries: Counter (server and client in one program: generated stubs over gRPC, SQLite
/// storage) and Chat (HTTP routes into objects, WebSockets, SQLite storage).
/// </summary>
public sealed partial class NativeAotTests(NativeAotTests.BuildFolder build, ITestOutputHelper log) : IClassFixture<NativeAotTests.BuildFolder>
{
    // Under the blame-hang timeout (5 min a test) that scripts/test sets; a publish took 2 to 2.5 min on a loaded 2-core machine.
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(4.5);
    private static readonly TimeSpan ProgramTimeout = TimeSpan.FromMinutes(1);

    [NativeAotFact]
    public async Task TheCounterSamplePublishedWithNativeAotCallsItsObjectsAndKeepsTheirStorageAcrossRuns()
    {
        using var directory = new TemporaryDirectory("aot-counter");
        var binary = await PublishAsync("samples/Counter/Counter.csproj", "Counter", directory.Combine("publish"));

        // The sample keeps its objects under the temp folder: a temp folder of this test's own.
        var temp = Directory.CreateDirectory(directory.Combine("tmp")).FullName;
        var first = await RunAsync();
        Assert.Contains("apples.Increment(5) = 5", first);
        Assert.Contains("1,000 un-awaited increments returned 6..1005 in call order: True", first);
        Assert.Contains("pears.Decrement(1_000_000) threw InvalidOperationException: Counter pears would go below zero.", first);
        Assert.Contains("pears.Increment() = 1 (the stub still works)", first);
        var second = await RunAsync();
        Assert.Contains("apples.Increment(5) = 1010 (stored by an earlier run)", second);
        Assert.Contains("pears.Increment() = 2 (the stub still works)", second);

        async Task<string> RunAsync()
        {
            var info = Command.Program(binary, directory.Path);
            info.Environment["TMPDIR"] = temp;
            var result = (await Command.RunAsync(info, ProgramTimeout)).EnsureSucceeded();
            AssertNoErrorLogged(result.Output);
            return result.Output;
        }
    }

    [NativeAotFact]
    public async Task TheChatSamplePublishedWithNativeAotServesItsRoutesAndWebSocketsAndKeepsRoomsAcrossRestarts()
    {
        using var directory = new TemporaryDirectory("aot-chat");
        var binary = await PublishAsync("samples/Chat/Chat.csproj", "Chat", directory.Combine("publish"));
        var data = directory.Combine("data");
        using var http = new HttpClient();

        await RunServerAsync(async address =>
        {
            // Plain ASP.NET Core endpoint, then a route into a room object answered by the object's Fetch.
            using var page = await http.GetAsync(address);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<title>SourceGenDO chat</title>", await page.Content.ReadAsStringAsync());
            using var other = await http.GetAsync(new Uri(address, "/rooms/lobby/other"));
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
            Assert.Contains("has one address: /rooms/lobby/websocket", await other.Content.ReadAsStringAsync());

            using var alice = await JoinAsync(address, "alice");
            await SendAsync(alice, """{"text":"hello from a native binary"}""");
            var echoed = await ReceiveUntilAsync(alice, message => message.GetProperty("type").GetString() == "message");
            Assert.Equal("hello from a native binary", echoed.GetProperty("text").GetString());
            Assert.Equal("alice", echoed.GetProperty("name").GetString());
            await alice.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        });

        // A new process over the same data directory: the room's history came from SQLite.
        await RunServerAsync(async address =>
        {
            using var bob = await ConnectAsync(address);
            await SendAsync(bob, """{"name":"bob"}""");
            var history = await ReceiveUntilAsync(bob, message => message.GetProperty("type").GetString() == "message");
            Assert.Equal("hello from a native binary", history.GetProperty("text").GetString());
            Assert.Equal("alice", history.GetProperty("name").GetString());
            var ready = await ReceiveUntilAsync(bob, message => message.GetProperty("type").GetString() == "ready");
            Assert.Equal(["bob"], ready.GetProperty("members").EnumerateArray().Select(member => member.GetString()));
            await bob.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        });

        async Task RunServerAsync(Func<Uri, Task> use)
        {
            using var server = Command.Start(Command.Program(binary, directory.Path, "--port", "0", "--data-directory", data));
            var address = new Uri((await server.WaitForLineAsync("Chat server listening on ", ProgramTimeout)).Split(' ')[0]);
            await use(address);
            var exitCode = await server.StopAsync(ProgramTimeout);
            Assert.True(exitCode == 0, $"The chat server exited with {exitCode} on SIGTERM. Output:{Environment.NewLine}{server.Output}");
            AssertNoErrorLogged(server.Output);
        }
    }

    /// <summary>
    /// Publishes <paramref name="project"/> for this machine with Native AOT into <paramref name="output"/>
    /// and returns the native binary. Any warning fails the publish (-warnaserror; the ILCompiler also
    /// takes the repository's TreatWarningsAsErrors), each trim warning reported on its own rather than
    /// one per assembly; an IL2xxx/IL3xxx code anywhere in the output fails the test too.
    /// </summary>
    private async Task<string> PublishAsync(string project, string name, string output)
    {
        var stopwatch = Stopwatch.StartNew();
        var result = await Command.RunAsync(
            Command.Dotnet(Repository.Root,
                "publish", Repository.PathOf(project), "-c", Repository.Configuration,
                // This machine's portable RID (linux-x64); only the app gets it, the libraries it references are built as usual.
                "-r", RuntimeInformation.RuntimeIdentifier,
                "-o", output, "-warnaserror", "-p:TrimmerSingleWarn=false",
                // Every project's bin/ and obj/ in a folder of this class's own: the publish restores and
                // builds for the RID, and writes nothing into the source tree, where other test projects
                // of the same `dotnet test` may be building at the same time.
                "--artifacts-path", build.Path,
                "-nodeReuse:false", "-p:UseSharedCompilation=false"),
            PublishTimeout);
        result.EnsureSucceeded();
        var warnings = result.Output.Split('\n').Where(line => TrimOrAotWarning().IsMatch(line)).ToList();
        Assert.True(warnings.Count == 0, $"{name}'s Native AOT publish reported trimming or AOT diagnostics:{Environment.NewLine}{string.Join(Environment.NewLine, warnings)}");

        var binary = Path.Combine(output, name);
        Assert.True(File.Exists(binary), $"No native binary {binary}. Output:{Environment.NewLine}{result.Output}");
        // A native binary, not a framework-dependent app: no IL assembly of the app beside it.
        Assert.False(File.Exists(Path.Combine(output, name + ".dll")), $"{name} was published as IL ({name}.dll), not with Native AOT: is PublishAot set in {project}?");
        log.WriteLine($"published {name} with Native AOT in {stopwatch.Elapsed.TotalSeconds:0.0} s: {new FileInfo(binary).Length / (1024.0 * 1024):0.0} MiB");
        return binary;
    }

    private static void AssertNoErrorLogged(string output)
    {
        var errors = output.Split('\n').Where(line => line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, $"The program logged errors:{Environment.NewLine}{output}");
    }

    private static async Task<ClientWebSocket> ConnectAsync(Uri address)
    {
        var socket = new ClientWebSocket();
        var room = new UriBuilder(new Uri(address, "/rooms/lobby/websocket")) { Scheme = "ws" }.Uri;
        using var timeout = new CancellationTokenSource(ProgramTimeout);
        await socket.ConnectAsync(room, timeout.Token);
        return socket;
    }

    private static async Task<ClientWebSocket> JoinAsync(Uri address, string name)
    {
        var socket = await ConnectAsync(address);
        await SendAsync(socket, $$"""{"name":"{{name}}"}""");
        await ReceiveUntilAsync(socket, message => message.GetProperty("type").GetString() == "ready");
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>The next message the room sends that <paramref name="wanted"/> accepts; an error message from the room fails the test.</summary>
    private static async Task<JsonElement> ReceiveUntilAsync(ClientWebSocket socket, Func<JsonElement, bool> wanted)
    {
        using var timeout = new CancellationTokenSource(ProgramTimeout);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var text = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await socket.ReceiveAsync(buffer, timeout.Token);
                Assert.NotEqual(WebSocketMessageType.Close, received.MessageType);
                text.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);
            var message = JsonDocument.Parse(text.ToArray()).RootElement;
            Assert.NotEqual("error", message.GetProperty("type").GetString());
            if (wanted(message))
            {
                return message;
            }
        }
    }

    /// <summary>Where both samples' publishes build, so the libraries they share are built once.</summary>
    public sealed class BuildFolder : IDisposable
    {
        private readonly TemporaryDirectory _directory = new("aot-build");

        public string Path => _directory.Path;

        public void Dispose() => _directory.Dispose();
    }

    [GeneratedRegex(@"\bIL[23]\d{3}\b")]
    private static partial Regex TrimOrAotWarning();
}
