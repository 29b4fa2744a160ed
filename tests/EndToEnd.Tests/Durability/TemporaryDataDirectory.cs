namespace SourceGenDO.EndToEnd.Tests.Durability;

/// <summary>A fresh data directory that the servers one test starts one after another share; deleted afterwards.</summary>
internal sealed class TemporaryDataDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sgdo-tests", "crash-" + Guid.NewGuid().ToString("n"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
