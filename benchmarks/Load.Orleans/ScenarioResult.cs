using System.Text.Json;
using System.Text.Json.Serialization;

namespace SourceGenDO.Load.Orleans;

/// <summary>The one JSON line a load scenario prints; the field names are the coordinator's contract.</summary>
internal sealed record ScenarioResult(
    string System,
    string Scenario,
    long Calls,
    double Seconds,
    double CallsPerSecond,
    double P50Us,
    double P99Us,
    double ClientCpuSeconds,
    double? ServerCpuSeconds,
    long? ClientAllocatedBytes);

/// <summary>The one JSON line the first-call scenario prints.</summary>
internal sealed record FirstCallResult(string System, string Scenario, long FirstCallUnixMs);

/// <summary>Writes the result lines; System.Text.Json formats numbers invariantly whatever the culture.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ScenarioResult))]
[JsonSerializable(typeof(FirstCallResult))]
internal sealed partial class ResultJsonContext : JsonSerializerContext
{
    public static void WriteLine<T>(T result)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(result, typeof(T), Default));
        Console.Out.Flush();
    }
}
