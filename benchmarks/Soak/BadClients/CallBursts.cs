using SourceGenDO.Load;

namespace SourceGenDO.Soak.BadClients;

/// <summary>
/// Bursts of concurrent calls through one <see cref="DurableObjectClient"/>: each burst is started at
/// once, then every call is awaited within the hang threshold and what it ended with is counted; then
/// the next burst, after a pause. The call floods (far past the client's and the object's bounds) and
/// the oversize errors are both such bursts.
/// </summary>
internal abstract class CallBursts(string kind, Uri address, int callsPerBurst, int objects, TimeSpan pause, TimeSpan hangThreshold) : BadClient(kind, hangThreshold)
{
    private readonly LatencyHistogram _burstTimes = new();
    private long _bursts;

    protected int CallsPerBurst => callsPerBurst;

    protected int Objects => objects;

    protected TimeSpan Pause => pause;

    /// <summary>Makes one call through <paramref name="stub"/>.</summary>
    protected abstract Task Call(SoakObjectStub stub);

    /// <summary>Names what a call ended with, when it failed.</summary>
    protected virtual string Failed(Exception exception) => Outcomes.Describe(exception);

    protected override async Task RunAsync(CancellationToken stop)
    {
        DurableObjectClient client;
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            connect.CancelAfter(HangThreshold);
            client = await DurableObjectClient.ConnectAsync(address, cancellationToken: connect.Token);
        }
        var space = client.GetNamespace<SoakObjectStub>(Roles.SoakServerRole.Namespace);
        MarkStarted();
        var tasks = new Task[callsPerBurst];
        while (!stop.IsCancellationRequested)
        {
            // New stubs each burst: a user whose calls failed would take new ones.
            var stubs = Enumerable.Range(0, objects).Select(i => space.GetByName($"{Kind}-{i}")).ToArray();
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            for (var i = 0; i < callsPerBurst; i++)
            {
                try
                {
                    tasks[i] = Call(stubs[i % objects]);
                }
                catch (Exception e)
                {
                    tasks[i] = Task.FromException(e);
                }
            }
            try
            {
                await Task.WhenAll(tasks).WaitAsync(HangThreshold, stop);
            }
            catch (Exception)
            {
                // Counted one by one below.
            }
            if (!stop.IsCancellationRequested)
            {
                _burstTimes.Record(System.Diagnostics.Stopwatch.GetTimestamp() - start);
            }
            _bursts++;
            Count(tasks, stop.IsCancellationRequested);
            foreach (var stub in stubs)
            {
                // Not awaited: a stub on a dead stream never finishes disposing.
                stub.Dispose();
            }
            await PauseAsync(pause, stop);
        }
        Saw.Add(_burstTimes.Count == 0
            ? "bursts, none ended before the stop"
            : $"bursts; those that ended before the stop took p50 {_burstTimes.PercentileMicroseconds(0.5) / 1000:N0} ms, max {_burstTimes.PercentileMicroseconds(1) / 1000:N0} ms", _bursts);
        // The process ends with the soak; a hung client must not hold it up.
        _ = client.DisposeAsync();
    }

    private void Count(Task[] tasks, bool stopping)
    {
        var unanswered = 0;
        foreach (var task in tasks)
        {
            if (task.IsCompletedSuccessfully)
            {
                Saw.Add("answered");
            }
            else if (task.IsFaulted)
            {
                Saw.Add(Failed(task.Exception!.InnerException!));
            }
            else if (task.IsCanceled)
            {
                Saw.Add("cancelled");
            }
            else
            {
                unanswered++;
                _ = task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            }
        }
        if (unanswered > 0)
        {
            if (stopping)
            {
                Saw.Add("still in flight at the end", unanswered);
            }
            else
            {
                Hang($"a call not answered within {HangThreshold.TotalSeconds:0} s", unanswered);
            }
        }
    }
}

/// <summary>Bursts of <c>Increment(1)</c> calls to one object, far past the bounds of the client and of the object's queue: expect <c>Overloaded</c>.</summary>
internal sealed class CallFlood(Uri address, int callsPerBurst, TimeSpan pause, TimeSpan hangThreshold)
    : CallBursts("call flood", address, callsPerBurst, 1, pause, hangThreshold)
{
    protected override string Did =>
        $"one DurableObjectClient sending bursts of {CallsPerBurst:N0} concurrent Increment calls to one object, a burst every {Pause.TotalSeconds:0.#} s after the last ended";

    protected override Task Call(SoakObjectStub stub) => stub.Increment(1);
}

/// <summary>Bursts of <c>Throw(length)</c> calls: every result is an error of <c>length</c> characters.</summary>
internal sealed class OversizeErrors(Uri address, int callsPerBurst, int length, TimeSpan pause, TimeSpan hangThreshold)
    : CallBursts("oversize errors", address, callsPerBurst, 10, pause, hangThreshold)
{
    protected override string Did =>
        $"one DurableObjectClient sending bursts of {CallsPerBurst:N0} concurrent Throw({length:N0}) calls over {Objects} objects, a burst every {Pause.TotalSeconds:0.#} s after the last ended";

    protected override Task Call(SoakObjectStub stub) => stub.Throw(length);

    protected override string Failed(Exception exception) =>
        exception is InvalidOperationException && exception.IsRemote() && exception.Message.Length == length
            ? $"the object's InvalidOperationException, whole ({length:N0} chars)"
            : base.Failed(exception);
}
