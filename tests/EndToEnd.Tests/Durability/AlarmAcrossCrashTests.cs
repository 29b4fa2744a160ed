using SourceGenDO.Tests.Shared;

namespace SourceGenDO.EndToEnd.Tests.Durability;

/// <summary>An alarm is durable: set, then the server killed with SIGKILL before its time, it fires in the next server.</summary>
public sealed class AlarmAcrossCrashTests
{
    [Fact]
    public async Task AnAlarmSetBeforeAKillFiresAfterTheRestartAndItsHandlerSeesTheObjectsName()
    {
        using var directory = new TemporaryDataDirectory();
        var name = ServerFixture.UniqueName("alarm");
        string id;
        DateTimeOffset scheduled;
        await using (var killed = await ServerProcess.StartOverAsync(directory.Path))
        {
            await using var client = await killed.ConnectAsync();
            var alarm = client.GetNamespace<NamedAlarmStub>("NAMED_ALARMS").GetByName(name);
            id = alarm.Id.ToString();
            // A first call activates the object, so that the alarm is set, and seen not to have fired, well before its time.
            Assert.Equal(0, await alarm.Fired());
            scheduled = DateTimeOffset.UtcNow.AddSeconds(2);
            await alarm.Set(scheduled);
            Assert.Equal(0, await alarm.Fired());
            await killed.KillAsync();
        }

        await using var restarted = await ServerProcess.StartOverAsync(directory.Path);
        await using var restartedClient = await restarted.ConnectAsync();
        // Reached by its id alone, which carries no name: the name the handler sees can only come from storage.
        var namespaces = restartedClient.GetNamespace<NamedAlarmStub>("NAMED_ALARMS");
        var nameless = namespaces.Get(namespaces.IdFromString(id));
        Assert.Null(nameless.Name);
        // Not before its time, so that most often the alarm, not the first look, wakes the instance.
        var untilDue = scheduled - DateTimeOffset.UtcNow;
        if (untilDue > TimeSpan.Zero)
        {
            await Task.Delay(untilDue);
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await nameless.Fired() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The alarm set before the kill did not fire within 20 s of the restart. Server output:" + Environment.NewLine + restarted.Output);
            await Task.Delay(100);
        }
        Assert.Equal(name, await nameless.NameSeenByAlarm());
    }
}
