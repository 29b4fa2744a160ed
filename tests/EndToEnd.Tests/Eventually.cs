namespace SourceGenDO.EndToEnd.Tests;

/// <summary>Waits for a condition that another thread or process makes true, failing after a generous bound.</summary>
internal static class Eventually
{
    public static async Task True(Func<bool> condition, string what, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
            await Task.Delay(10);
        }
    }
}
