namespace SourceGenDO.Server.Tests.Storage;

/// <summary>
/// A fact that measures rather than tests, skipped unless the environment variable
/// <c>SGDO_STORAGE_MEASURE=1</c> is set: it syncs the disk thousands of times, which CI need not do.
/// </summary>
public sealed class MeasurementFactAttribute : FactAttribute
{
    public MeasurementFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("SGDO_STORAGE_MEASURE") != "1")
        {
            Skip = "A measurement: set SGDO_STORAGE_MEASURE=1 to run it.";
        }
    }
}
