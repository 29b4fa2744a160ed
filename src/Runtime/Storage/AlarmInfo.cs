namespace SourceGenDO;

/// <summary>Which attempt of an alarm the <c>Alarm</c> handler is running.</summary>
/// <param name="RetryCount">0 on the first attempt; 1 to 6 on the retries after the handler threw.</param>
/// <param name="ScheduledTime">The time the alarm was set for.</param>
public sealed record AlarmInfo(int RetryCount, DateTimeOffset ScheduledTime)
{
    /// <summary>The most retries of a handler that keeps throwing: 6, after which the alarm is dropped.</summary>
    public const int MaxRetries = 6;

    /// <summary>True when an earlier attempt of this alarm threw.</summary>
    public bool IsRetry => RetryCount > 0;
}
