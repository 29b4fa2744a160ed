namespace SourceGenDO.EndToEnd.Tests;

/// <summary>One server and one connected client shared by the tests of a class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public RunningServer Server { get; private set; } = null!;

    public DurableObjectClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await RunningServer.StartAsync();
        Client = await Server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }

    /// <summary>A name no other test uses, so tests never share an object by accident.</summary>
    public static string UniqueName(string prefix = "object") => $"{prefix}-{Guid.NewGuid():n}";
}
