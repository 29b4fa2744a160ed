namespace SourceGenDO.Load;

/// <summary>
/// The memory case's object: holds one large value (100 KiB in the benchmark), so that 10,000 of them
/// hold far more than the server's storage cache.
/// </summary>
public class DurableBlob(DurableObjectState ctx) : DurableObject(ctx)
{
    /// <summary>Stores <paramref name="length"/> bytes, each <paramref name="seed"/>, under "blob"; returns the length.</summary>
    public Task<int> Store(int seed, int length)
    {
        var value = new byte[length];
        Array.Fill(value, (byte)seed);
        Ctx.Storage.Put("blob", value);
        return Task.FromResult(length);
    }

    /// <summary>Reads "blob" back: its length when every byte is <paramref name="seed"/>, -1 when a byte differs, 0 when it is missing.</summary>
    public async Task<int> Load(int seed)
    {
        var value = await Ctx.Storage.GetAsync<byte[]>("blob");
        if (value is null)
        {
            return 0;
        }
        return value.AsSpan().ContainsAnyExcept((byte)seed) ? -1 : value.Length;
    }
}
