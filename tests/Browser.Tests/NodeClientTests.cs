using System.Diagnostics;
using System.Text.Json;

namespace SourceGenDO.Browser.Tests;

/// <summary>A client that no one here wrote: Node with the npm ws package (node/chat-client.mjs) against the chat's WebSocket.</summary>
[Collection(ChatFixture.Collection)]
public sealed class NodeClientTests(ChatFixture fixture)
{
    [NodeFact]
    public async Task TheWsPackageJoinsGetsTheBroadcastTheHistoryAndAClearErrorForEachMistake()
    {
        Prerequisites.Require(Prerequisites.NodeMissing);
        var room = "node-" + Guid.NewGuid().ToString("n")[..12];

        var (exitCode, output, errors) = await RunNode("chat-client.mjs", fixture.Server.Address.ToString(), room);

        Assert.True(exitCode == 0, $"node chat-client.mjs exited with {exitCode}: {errors}{Environment.NewLine}{fixture.Server.Describe()}");
        using var seen = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var root = seen.RootElement;
        Assert.Equal(["alice"], Members(root, "aliceReady"));
        Assert.Equal(["alice", "bob"], Members(root, "bobReady").Order());
        Assert.Equal("bob", root.GetProperty("aliceSawBobJoin").GetProperty("name").GetString());

        foreach (var receiver in new[] { "bobGot", "aliceGot" })
        {
            var message = root.GetProperty(receiver);
            Assert.Equal("alice", message.GetProperty("name").GetString());
            Assert.StartsWith("hello from node ", message.GetProperty("text").GetString());
            Assert.True(message.GetProperty("time").GetInt64() > 0);
        }
        Assert.Equal("A message is at most 1000 characters; this one has 1001.", root.GetProperty("bobError").GetProperty("error").GetString());

        // Carol joined last: she got the one message said so far (not bob's refused one), then ready.
        var history = root.GetProperty("history").EnumerateArray().ToList();
        var said = Assert.Single(history);
        Assert.Equal("alice", said.GetProperty("name").GetString());
        Assert.Equal(root.GetProperty("bobGot").GetProperty("text").GetString(), said.GetProperty("text").GetString());
        Assert.Equal(["alice", "bob", "carol"], Members(root, "carolReady").Order());

        // Dave's mistakes, each answered to him alone with what was wrong; his socket stayed open and he joined.
        var mistakes = root.GetProperty("daveErrors").EnumerateArray().Select(error => error.GetString()!).ToList();
        Assert.Equal(4, mistakes.Count);
        Assert.StartsWith("Send JSON such as {\"name\":\"alice\"} or {\"text\":\"hello\"}: ", mistakes[0]);
        Assert.Equal("The chat takes text messages: JSON such as {\"name\":\"alice\"} or {\"text\":\"hello\"}.", mistakes[1]);
        Assert.Equal("Join first: send {\"name\":\"your name\"}.", mistakes[2]);
        Assert.Equal("A name is 1 to 32 characters without control characters; this one has 33.", mistakes[3]);
        Assert.Equal(["alice", "bob", "carol", "dave"], Members(root, "daveReady").Order());
    }

    private static string[] Members(JsonElement root, string property) =>
        [.. root.GetProperty(property).GetProperty("members").EnumerateArray().Select(member => member.GetString()!)];

    private static async Task<(int ExitCode, string Output, string Errors)> RunNode(params string[] arguments)
    {
        var info = new ProcessStartInfo(Prerequisites.FindOnPath("node")!)
        {
            WorkingDirectory = Prerequisites.NodeClientDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        // The script bounds each of its steps at 30 s; this only guards against a hung process.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {string.Join(' ', arguments)} did not end within 3 minutes: {await errors}");
        }
        return (node.ExitCode, await output, await errors);
    }
}
