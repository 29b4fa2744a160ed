using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>The namespace secret: generated once, kept in the data directory, or configured.</summary>
public sealed class NamespaceSecretTests
{
    private static async Task<Google.Protobuf.ByteString> CountersKey(RunningServer server)
    {
        using var raw = new RawClient(server.Address);
        var handshake = await raw.Grpc.HandshakeAsync(new HandshakeRequest());
        return handshake.Namespaces.Single(ns => ns.Name == "COUNTERS").IdKey;
    }

    [Fact]
    public async Task AGeneratedSecretSurvivesARestartSoIdsStayValid()
    {
        Google.Protobuf.ByteString first;
        string directory;
        await using (var server = await RunningServer.StartAsync())
        {
            first = await CountersKey(server);
            directory = server.DataDirectory;
        }
        await using (var restarted = await RunningServer.StartAsync(dataDirectory: directory))
        {
            Assert.Equal(first, await CountersKey(restarted));
        }
        await using var elsewhere = await RunningServer.StartAsync();
        Assert.NotEqual(first, await CountersKey(elsewhere));
    }

    [Fact]
    public async Task AConfiguredSecretDecidesTheKeysAndTooShortOnesAreRefused()
    {
        var secret = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        await using var one = await RunningServer.StartAsync(options => options.Secret = secret);
        await using var two = await RunningServer.StartAsync(options => options.Secret = secret);
        Assert.Equal(await CountersKey(one), await CountersKey(two));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => RunningServer.StartAsync(options => options.Secret = new byte[8]));
        Assert.Contains("at least 32 bytes", error.ToString());
    }
}
