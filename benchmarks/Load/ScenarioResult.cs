using System.Text.Json;
using System.Text.Json.Serialization;

namespace SourceGenDO.Load;

/// <summary>What one client process measured in one scenario; printed as one JSON line.</summary>
internal sealed record ScenarioResult(
    string System,
    string Scenario,
    long Calls = 0,
    double Seconds = 0,
    double CallsPerSecond = 0,
    double P50Us = 0,
    double P99Us = 0,
    double ClientCpuSeconds = 0,
    double? ServerCpuSeconds = null,
    long? ClientAllocatedBytes = null,
    long? FirstCallUnixMs = null,
    long? CompletedCalls = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ScenarioResult? Parse(string line) => JsonSerializer.Deserialize<ScenarioResult>(line, Json);
}
