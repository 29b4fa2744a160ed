namespace SourceGenDO.Load.Orleans;

/// <summary>
/// A closed-loop load shape shared with the SourceGenDO and raw-gRPC roles: <see cref="Callers"/> callers, each
/// awaiting one call at a time; caller k makes its j-th call to grain (k + Callers * j) % <see cref="GrainCount"/>.
/// </summary>
internal sealed record Scenario(string Name, int GrainCount, int Callers, string GrainKeyPrefix)
{
    public static Scenario Parse(string name) => name switch
    {
        "seq" => new(name, GrainCount: 1, Callers: 1, "counter-"),
        "p64" => new(name, GrainCount: 1, Callers: 64, "counter-"),
        "p1024" => new(name, GrainCount: 1, Callers: 1024, "counter-"),
        "objects1000" => new(name, GrainCount: 1000, Callers: 64, "obj-"),
        _ => throw new UsageException($"unknown scenario '{name}'"),
    };

    public string GrainKey(int index) => GrainKeyPrefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
