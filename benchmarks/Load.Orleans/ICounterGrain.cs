namespace SourceGenDO.Load.Orleans;

/// <summary>The Orleans twin of SourceGenDO's sample Counter: one long per grain key.</summary>
[Alias("SourceGenDO.Load.Orleans.ICounterGrain")]
public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Adds <paramref name="amount"/> and returns the new value.</summary>
    [Alias("Increment")]
    Task<long> Increment(long amount);
}
