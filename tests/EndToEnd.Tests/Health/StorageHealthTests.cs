using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SourceGenDO.EndToEnd.Tests.Listing;
using SourceGenDO.EndToEnd.Tests.Storage;
using SourceGenDO.Server.Health;

namespace SourceGenDO.EndToEnd.Tests.Health;

/// <summary>
/// The storage health check that AddDurableObjects registers (SPEC.md section 9), mapped with
/// MapHealthChecks and read over a real socket: unhealthy while storage cannot commit, healthy again after.
/// </summary>
public sealed class StorageHealthTests
{
    [Fact]
    public async Task TheCheckTurnsUnhealthyWithTheErrorWhenACommitFailsAndHealthyAfterOneSucceeds()
    {
        var backend = new ControlledBackend();
        await using var server = await RunningServer.StartAsync(
            options => options.UseStorage(_ => backend), map: app => app.MapHealthChecks("/healthz"));
        await using var client = await server.ConnectAsync();
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        var health = server.App.Services.GetRequiredService<HealthCheckService>();
        var stores = client.GetNamespace<StoreStub>("STORES");
        var name = ServerFixture.UniqueName();
        var store = stores.GetByName(name);
        await store.Put("k", "before");

        Assert.Equal((HttpStatusCode.OK, "Healthy"), await GetAsync(http));

        backend.FailNextCommit = new IOException("No space left on device");
        var failed = await Assert.ThrowsAsync<DurableObjectException>(() => store.Put("k", "lost"));
        Assert.True(failed.DurableObjectReset);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), await GetAsync(http));
        var entry = (await health.CheckHealthAsync()).Entries[StorageHealthCheck.Name];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("Durable object storage cannot commit: the last commit failed (1 in a row): No space left on device", entry.Description);
        Assert.IsType<IOException>(entry.Exception);
        Assert.Equal(1L, entry.Data["failedCommitsInARow"]);

        // The reset broke the stub; a new one reaches a new instance.
        store = stores.GetByName(name);
        await store.Put("k", "after");

        Assert.Equal((HttpStatusCode.OK, "Healthy"), await GetAsync(http));
        entry = (await health.CheckHealthAsync()).Entries[StorageHealthCheck.Name];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(1L, entry.Data["failedCommits"]);
        Assert.Equal("after", await store.Get("k"));
    }

    [Fact]
    public async Task TheCheckIsUnhealthyOnceStorageHasStopped()
    {
        var server = await RunningServer.StartAsync(options => options.UseInMemoryStorage());
        var health = server.App.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        await server.StopAsync();

        var entry = (await health.CheckHealthAsync()).Entries[StorageHealthCheck.Name];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("Durable object storage is stopped: the server is shutting down.", entry.Description);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task ABackendThatCannotListAnswersTheListingWith501()
    {
        await using var server = await RunningServer.StartAsync(options => options.UseStorage(_ => new ControlledBackend()));
        using var api = new ListingApi(server);

        var (status, body) = await api.GetAsync("/api/durable_objects/namespaces/STORES/objects");

        Assert.Equal(HttpStatusCode.NotImplemented, status);
        var error = body.GetProperty("errors")[0];
        Assert.Equal(10004, error.GetProperty("code").GetInt32());
        Assert.Contains("does not list objects", error.GetProperty("message").GetString());
    }

    private static async Task<(HttpStatusCode, string)> GetAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/healthz");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
