using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Server.Health;

/// <summary>
/// The ASP.NET Core health check of durable object storage, which <c>AddDurableObjects</c> registers as
/// <see cref="Name"/>: unhealthy while storage cannot commit (the last commit failed: its error's message
/// is the description), before storage is open and once it has stopped; healthy otherwise. Map it as
/// usual, for example <c>app.MapHealthChecks("/healthz")</c>.
/// </summary>
/// <remarks>
/// It reports the outcome of the last commit the server made, so it turns healthy again with the next
/// commit that succeeds, and it makes no commit of its own: a server that writes nothing after a failure
/// stays unhealthy until something writes. Its data holds the counts of commits that succeeded and
/// failed, and how many failed in a row.
/// </remarks>
public sealed class StorageHealthCheck : IHealthCheck
{
    /// <summary>The name the check is registered under.</summary>
    public const string Name = "sourcegendo-storage";

    /// <summary>The tags it is registered with, for <c>HealthCheckOptions.Predicate</c>.</summary>
    public static readonly IReadOnlyList<string> Tags = ["sourcegendo", "storage"];

    private readonly StorageService _storage;

    internal StorageHealthCheck(StorageService storage) => _storage = storage;

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failureStatus = context.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        var opened = _storage.Opened;
        if (!opened.IsCompleted)
        {
            return Task.FromResult(new HealthCheckResult(failureStatus, "Durable object storage is not open yet: the server is starting."));
        }
        if (opened.Exception?.GetBaseException() is { } openError)
        {
            return Task.FromResult(new HealthCheckResult(failureStatus, $"Durable object storage could not be opened: {openError.Message}", openError));
        }
        if (_storage.Context.IsStopped)
        {
            return Task.FromResult(new HealthCheckResult(failureStatus, "Durable object storage is stopped: the server is shutting down."));
        }
        var outcomes = _storage.CommitOutcomes;
        var failure = outcomes.LastFailure;
        var data = new Dictionary<string, object>
        {
            ["commits"] = outcomes.Succeeded,
            ["failedCommits"] = outcomes.Failed,
            ["failedCommitsInARow"] = failure?.InARow ?? 0L,
        };
        return Task.FromResult(failure is null
            ? HealthCheckResult.Healthy("Durable object storage commits.", data)
            : new HealthCheckResult(failureStatus,
                $"Durable object storage cannot commit: the last commit failed ({failure.InARow} in a row): {failure.Error.Message}", failure.Error, data));
    }

    /// <summary>Registers the check once, however often <c>AddDurableObjects</c> is called.</summary>
    internal static void Register(IServiceCollection services)
    {
        if (services.Any(static service => service.ServiceType == typeof(StorageHealthCheck)))
        {
            return;
        }
        services.AddSingleton(static provider => new StorageHealthCheck(provider.GetRequiredService<StorageService>()));
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            Name, static provider => provider.GetRequiredService<StorageHealthCheck>(), failureStatus: null, Tags));
    }
}
