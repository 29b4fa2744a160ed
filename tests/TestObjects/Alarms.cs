using System.Collections.Concurrent;

namespace SourceGenDO.TestObjects;

/// <summary>Sets alarms and records every run of its handler, by object name.</summary>
public class Alarms(DurableObjectState ctx) : DurableObject(ctx)
{
    /// <summary>Every handler run in this process: the object's name as the instance saw it, and the attempt.</summary>
    public static readonly ConcurrentQueue<(string? Name, AlarmInfo Info)> Runs = new();

    /// <summary>How many more runs of each object's handler throw.</summary>
    public static readonly ConcurrentDictionary<string, int> FailuresLeft = new();

    public async Task Set(DateTimeOffset time, int failures)
    {
        FailuresLeft[Ctx.Id.ToString()] = failures;
        await Ctx.Storage.SetAlarmAsync(time);
    }

    public async Task<DateTimeOffset?> Get() => await Ctx.Storage.GetAlarmAsync();

    public async Task Delete() => await Ctx.Storage.DeleteAlarmAsync();

    public async Task<long> Fired() => await Ctx.Storage.GetAsync<long>("fired");

    protected override async Task Alarm(AlarmInfo alarmInfo)
    {
        Runs.Enqueue((Ctx.Id.Name, alarmInfo));
        Ctx.Storage.Put("fired", await Ctx.Storage.GetAsync<long>("fired") + 1);
        if (FailuresLeft.TryGetValue(Ctx.Id.ToString(), out var left) && left > 0)
        {
            FailuresLeft[Ctx.Id.ToString()] = left - 1;
            throw new InvalidOperationException("alarm handler failed on purpose");
        }
    }
}
