using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace SourceGenDO.EndToEnd.Tests.Security;

/// <summary>Rotating a token without downtime: add the new one, move clients, remove the old, whose connections end.</summary>
public sealed class TokenRotationTests
{
    private const string Old = "old-token-0123456789abcdef";
    private const string New = "new-token-0123456789abcdef";

    [Fact]
    public async Task ATokenIsRotatedThroughConfigurationWhileClientsStayConnected()
    {
        var configuration = new ReloadableConfiguration(new() { ["DurableObjects:AccessTokens:0"] = Old });
        await using var server = await SecuredServer.StartAsync(configureHost: builder => ((IConfigurationBuilder)builder.Configuration).Add(configuration));
        await using var before = await server.ConnectAsync(Old);
        var stub = before.GetNamespace<AccessProbeStub>(SecuredServer.Probes).GetByName(ServerFixture.UniqueName());
        await stub.Hello();
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + Old);
        await socket.ConnectAsync(new Uri($"ws://{server.HttpAddress.Authority}/probes/{ServerFixture.UniqueName()}/socket"), CancellationToken.None);
        await ReceiveAsync(socket);

        // 1. Add the new token: both are valid, nothing is interrupted.
        configuration.Replace(new() { ["DurableObjects:AccessTokens:0"] = Old, ["DurableObjects:AccessTokens:1:Token"] = New });
        await using var after = await server.ConnectAsync(New);
        var moved = after.GetNamespace<AccessProbeStub>(SecuredServer.Probes).GetByName(ServerFixture.UniqueName());
        await moved.Hello();
        await stub.Hello();

        // 2. Invalid settings are refused and the ones in force kept.
        configuration.Replace(new() { ["DurableObjects:AccessTokens:0"] = "short" });
        await stub.Hello();
        await (await server.ConnectAsync(New)).DisposeAsync();

        // 3. Remove the old token: its stream and socket end, it no longer connects, the new one goes on.
        configuration.Replace(new() { ["DurableObjects:AccessTokens:0:Token"] = New });
        var ended = await Assert.ThrowsAsync<DurableObjectException>(() => stub.Hello());
        Assert.False(ended.Retryable);
        Assert.Contains("no longer accepted by the server (it was removed)", ended.Message);
        Assert.Equal("closed:1008", await ReceiveAsync(socket));
        await Assert.ThrowsAsync<DurableObjectException>(() => server.ConnectAsync(Old));
        await moved.Hello();
    }

    private static async Task<string> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        return result.MessageType == WebSocketMessageType.Close
            ? $"closed:{(int?)result.CloseStatus}"
            : Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    /// <summary>A configuration source whose whole content is replaced and reloaded, as a watched file's is.</summary>
    private sealed class ReloadableConfiguration(Dictionary<string, string?> initial) : ConfigurationProvider, IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

        public override void Load() => Data = new Dictionary<string, string?>(initial, StringComparer.OrdinalIgnoreCase);

        public void Replace(Dictionary<string, string?> values)
        {
            Data = new Dictionary<string, string?>(values, StringComparer.OrdinalIgnoreCase);
            OnReload();
        }
    }
}
