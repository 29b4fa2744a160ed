using System.Text.Json;
using System.Text.Json.Serialization;

namespace SourceGenDO.Soak;

/// <summary>The JSON the roles print and the coordinator reads.</summary>
internal static class ResultJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Write<T>(T value, bool indented = false) =>
        JsonSerializer.Serialize(value, indented ? new JsonSerializerOptions(Options) { WriteIndented = true } : Options);

    public static T Read<T>(string json) => JsonSerializer.Deserialize<T>(json, Options)!;
}

/// <summary>What the good clients measured in one phase: successful calls (and their rate in each 10 s of it), their latency, hangs, and errors by kind.</summary>
internal sealed record GoodPhaseResult(
    string Name,
    double Seconds,
    long Calls,
    double CallsPerSecond,
    double P50Us,
    double P99Us,
    double MaxUs,
    double HangThresholdSeconds,
    long Hung,
    long CompletedLate,
    long NeverCompleted,
    Dictionary<string, long> Errors,
    List<double> CallsPerSecondBy10Seconds);

/// <summary>The good clients' process result.</summary>
internal sealed record GoodClientsResult(List<GoodPhaseResult> Phases, long StubsReplaced, bool StoppedInTime);

/// <summary>
/// What one kind of bad client did and saw. <see cref="Hangs"/> counts what the server should have
/// answered within the hang threshold and did not (a call, a malformed stream's end).
/// </summary>
internal sealed record BadClientResult(string Kind, string Did, Dictionary<string, long> Saw, long Hangs, bool StoppedInTime);

/// <summary>The bad clients' process result.</summary>
internal sealed record BadClientsResult(List<BadClientResult> Clients);
