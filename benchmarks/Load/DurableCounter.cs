namespace SourceGenDO.Load;

/// <summary>
/// The durable benchmark's object: the seed's counter, every increment one durable write. The write is
/// not awaited; the output gate holds the result until it is on disk.
/// </summary>
public class DurableCounter(DurableObjectState ctx) : DurableObject(ctx)
{
    public async Task<long> Increment(long amount)
    {
        long v = await Ctx.Storage.GetAsync<long>("value") + amount;
        Ctx.Storage.Put("value", v);
        return v;
    }
}
