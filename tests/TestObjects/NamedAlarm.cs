namespace SourceGenDO.TestObjects;

/// <summary>
/// An alarm whose handler stores what it saw, so that a test can read it back from another process:
/// the object's name as the handler saw it, and how often the handler ran.
/// </summary>
public class NamedAlarm(DurableObjectState ctx) : DurableObject(ctx)
{
    /// <summary>What the handler stores when the instance has no name.</summary>
    public const string NoName = "(no name)";

    public async Task Set(DateTimeOffset time) => await Ctx.Storage.SetAlarmAsync(time);

    public async Task<int> Fired() => await Ctx.Storage.GetAsync("fired", 0);

    /// <summary>The <c>Ctx.Id.Name</c> the last handler run saw, or null before it ran.</summary>
    public async Task<string?> NameSeenByAlarm() => await Ctx.Storage.GetAsync<string>("name-seen-by-alarm");

    protected override async Task Alarm(AlarmInfo alarmInfo)
    {
        var fired = await Ctx.Storage.GetAsync("fired", 0);
        // No await between the two: they become durable together.
        Ctx.Storage.Put("fired", fired + 1);
        Ctx.Storage.Put("name-seen-by-alarm", Ctx.Id.Name ?? NoName);
    }
}
