namespace SourceGenDO.TestObjects;

/// <summary>Passes a call on through a chain of objects of its own kind: object-to-object calls that wait on object-to-object calls.</summary>
public class Relay(DurableObjectState ctx, DurableObjectNamespace<RelayStub> relays) : DurableObject(ctx)
{
    /// <summary>Calls the next relay of the chain <paramref name="hops"/> times over, then answers <paramref name="value"/>.</summary>
    public async Task<int> Pass(string chain, int hops, int value) =>
        hops == 0 ? value : await relays.GetByName($"{chain}/{hops - 1}").Pass(chain, hops - 1, value);
}
