using System.Text.Json;

namespace SourceGenDO.Load;

/// <summary>What the memory case's client measured: how long writing and reading back every object took; printed as one JSON line.</summary>
internal sealed record MemoryResult(int Objects, int ValueBytes, int Callers, double WriteSeconds, double ReadSeconds, long VerifiedObjects)
{
    public string ToJson() => JsonSerializer.Serialize(this, ScenarioResult.Json);

    public static MemoryResult Parse(string line) => JsonSerializer.Deserialize<MemoryResult>(line, ScenarioResult.Json)!;
}
