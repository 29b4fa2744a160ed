using Microsoft.Extensions.Time.Testing;

namespace SourceGenDO.EndToEnd.Tests.Storage;

/// <summary>Alarms (SPEC.md section 5) on a server whose clock the test moves: no test sleeps until an alarm is due.</summary>
public sealed class AlarmTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private RunningServer _server = null!;
    private DurableObjectClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(options => options.IdleTimeout = TimeSpan.FromSeconds(10), time: _time);
        _client = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task AnAlarmRunsOnceAtItsTimeAndIsThenDeleted()
    {
        var name = ServerFixture.UniqueName();
        var alarm = _client.GetNamespace<AlarmsStub>("ALARMS").GetByName(name);
        var at = _time.GetUtcNow().AddMinutes(5);
        await alarm.Set(at, 0);
        Assert.Equal(at, await alarm.Get());

        _time.Advance(TimeSpan.FromMinutes(4));
        await Task.Delay(200);
        Assert.Equal(0, await alarm.Fired());

        _time.Advance(TimeSpan.FromMinutes(1));
        await Eventually.True(() => RunsOf(name).Count == 1, "the alarm ran");
        await Eventually.True(() => alarm.Get().Result is null, "the alarm was deleted after it ran");
        Assert.Equal(1, await alarm.Fired());
        var run = RunsOf(name).Single();
        Assert.False(run.IsRetry);
        Assert.Equal(at, run.ScheduledTime);
    }

    [Fact]
    public async Task AThrowingHandlerIsRetriedWithBackoffFromTwoSeconds()
    {
        var name = ServerFixture.UniqueName();
        var alarm = _client.GetNamespace<AlarmsStub>("ALARMS").GetByName(name);
        await alarm.Set(_time.GetUtcNow(), failures: 2);
        await Eventually.True(() => RunsOf(name).Count == 1, "the first attempt ran");

        var firstRetry = await AdvanceUntil(() => RunsOf(name).Count == 2);
        Assert.InRange(firstRetry, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));
        var secondRetry = await AdvanceUntil(() => RunsOf(name).Count == 3);
        Assert.InRange(secondRetry, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));

        Assert.Equal([0, 1, 2], RunsOf(name).Select(static run => run.RetryCount));
        Assert.Equal([false, true, true], RunsOf(name).Select(static run => run.IsRetry));
        await Eventually.True(() => alarm.Get().Result is null, "the alarm was deleted once a retry succeeded");
    }

    [Fact]
    public async Task AHandlerThatAlwaysThrowsIsRetriedSixTimesThenDropped()
    {
        var name = ServerFixture.UniqueName();
        var alarm = _client.GetNamespace<AlarmsStub>("ALARMS").GetByName(name);
        await alarm.Set(_time.GetUtcNow(), failures: 100);
        await Eventually.True(() => RunsOf(name).Count == 1, "the first attempt ran");
        for (var attempt = 2; attempt <= 1 + AlarmInfo.MaxRetries; attempt++)
        {
            await AdvanceUntil(() => RunsOf(name).Count == attempt, TimeSpan.FromSeconds(1));
        }
        await Eventually.True(() => alarm.Get().Result is null, "the alarm was dropped after its last retry");
        _time.Advance(TimeSpan.FromMinutes(10));
        await Task.Delay(300);
        Assert.Equal(1 + AlarmInfo.MaxRetries, RunsOf(name).Count);
    }

    [Fact]
    public async Task AnAlarmWakesAnEvictedInstanceWithItsName()
    {
        var name = ServerFixture.UniqueName();
        var alarm = _client.GetNamespace<AlarmsStub>("ALARMS").GetByName(name);
        await alarm.Set(_time.GetUtcNow().AddMinutes(1), 0);
        // Evicted: idle for longer than the idle timeout, well before the alarm is due.
        _time.Advance(TimeSpan.FromSeconds(20));
        var host = (SourceGenDO.Server.Execution.DurableObjectHost)_server.App.Services.GetService(typeof(SourceGenDO.Server.Execution.DurableObjectHost))!;
        Assert.True(host.TryGetNamespace("ALARMS", out var ns));
        await Eventually.True(() => !ns.IsLive(alarm.Id), "the instance was evicted");

        _time.Advance(TimeSpan.FromMinutes(1));
        // RunsOf counts the runs whose instance saw this name in Ctx.Id.Name: a run without it would not count.
        await Eventually.True(() => RunsOf(name).Count == 1, "the alarm ran on a new instance that knew its name");
        Assert.True(ns.IsLive(alarm.Id), "the alarm constructed a new instance");
    }

    [Fact]
    public async Task SettingAnAlarmReplacesTheOneBefore()
    {
        var name = ServerFixture.UniqueName();
        var alarm = _client.GetNamespace<AlarmsStub>("ALARMS").GetByName(name);
        await alarm.Set(_time.GetUtcNow().AddMinutes(1), 0);
        var later = _time.GetUtcNow().AddMinutes(3);
        await alarm.Set(later, 0);
        Assert.Equal(later, await alarm.Get());
        _time.Advance(TimeSpan.FromMinutes(2));
        await Task.Delay(200);
        Assert.Empty(RunsOf(name));
        await alarm.Delete();
        Assert.Null(await alarm.Get());
        _time.Advance(TimeSpan.FromMinutes(2));
        await Task.Delay(200);
        Assert.Empty(RunsOf(name));
    }

    [Fact]
    public async Task AnAlarmOnAnInstanceMadeByACallWithoutTheNameStillSeesTheStoredName()
    {
        var name = ServerFixture.UniqueName();
        var alarms = _client.GetNamespace<AlarmsStub>("ALARMS");
        var alarm = alarms.GetByName(name);
        await alarm.Set(_time.GetUtcNow().AddSeconds(25), 0);
        _time.Advance(TimeSpan.FromSeconds(20));
        var host = (SourceGenDO.Server.Execution.DurableObjectHost)_server.App.Services.GetService(typeof(SourceGenDO.Server.Execution.DurableObjectHost))!;
        Assert.True(host.TryGetNamespace("ALARMS", out var ns));
        await Eventually.True(() => !ns.IsLive(alarm.Id), "the instance was evicted");

        // A call by the id alone makes the next instance: it knows no name until the alarm brings the stored one.
        var nameless = alarms.Get(alarms.IdFromString(alarm.Id.ToString()));
        Assert.Null(nameless.Name);
        Assert.NotNull(await nameless.Get());
        // Due, while that instance is still live (idle for less than the idle timeout of 10 s).
        _time.Advance(TimeSpan.FromSeconds(6));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await nameless.Fired() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the alarm did not run");
            await Task.Delay(20);
        }
        Assert.True(ns.IsLive(alarm.Id), "the instance the nameless call made is the one the alarm ran on");
        // RunsOf counts the runs whose instance saw this name in Ctx.Id.Name.
        Assert.Single(RunsOf(name));
    }

    /// <summary>Moves the clock in small steps, giving the server time to react to each, until <paramref name="condition"/> holds; returns how far it moved.</summary>
    private async Task<TimeSpan> AdvanceUntil(Func<bool> condition, TimeSpan? by = null)
    {
        var step = by ?? TimeSpan.FromMilliseconds(100);
        var moved = TimeSpan.Zero;
        while (!condition())
        {
            Assert.True(moved < TimeSpan.FromMinutes(3), "the condition never held");
            await Task.Delay(20);
            _time.Advance(step);
            moved += step;
        }
        return moved;
    }

    private static List<AlarmInfo> RunsOf(string name) => Alarms.Runs.Where(run => run.Name == name).Select(static run => run.Info).ToList();
}
