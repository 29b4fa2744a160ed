using Microsoft.Extensions.DependencyInjection;
using SourceGenDO.Dispatch;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// The output gate in the client transport: a call made by code whose writes are not yet durable leaves
/// only once they are, later calls of the stub stay behind it, and a failed write fails the held calls
/// unsent. <see cref="TestOutputGate"/> plays the object's scheduler; a real server records arrivals.
/// </summary>
public sealed class OutputGateHoldTests(OutputGateHoldTests.ArrivalServer fixture) : IClassFixture<OutputGateHoldTests.ArrivalServer>
{
    // A bound on waits that would otherwise hang a broken build; no test relies on its length.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly TestOutputGate _gate = new();

    private DurableObjectNamespace<ArrivalLogStub> Logs => fixture.Client.GetNamespace<ArrivalLogStub>(ArrivalServer.Namespace);

    [Fact]
    public async Task ACallMadeWhileWritesArePendingReachesTheObjectOnlyOnceTheyAreDurable()
    {
        var name = ServerFixture.UniqueName("log");
        var stub = Logs.GetByName(name);
        var writes = Writes();
        _gate.PendingWrites = writes.Task;

        var held = _gate.Run(() => stub.Arrive(1));

        // Through the same connection, so a call that left at once would have arrived first.
        Assert.Equal(1, await Logs.GetByName(name).Arrive(-1).WaitAsync(Patience));
        Assert.False(held.IsCompleted);
        writes.SetResult();
        Assert.Equal(2, await held.WaitAsync(Patience));
        Assert.Equal([-1, 1], await Logs.GetByName(name).Arrived());
    }

    [Fact]
    public async Task LaterCallsThroughTheStubArriveAfterTheHeldOneInCallOrderAlsoOnceTheGateIsOpen()
    {
        var name = ServerFixture.UniqueName("log");
        var stub = Logs.GetByName(name);
        var first = Writes();
        var second = Writes();
        _gate.PendingWrites = first.Task;
        var one = _gate.Run(() => stub.Arrive(1));
        _gate.PendingWrites = second.Task;
        var two = _gate.Run(() => stub.Arrive(2));
        _gate.PendingWrites = null;
        // Nothing pending for these two: they wait only because earlier calls of the stub are held.
        var three = _gate.Run(() => stub.Arrive(3));
        var four = stub.Arrive(4);
        // The second call's writes are durable, but the first one's are not: nothing may pass it.
        second.SetResult();

        Assert.Equal(1, await Logs.GetByName(name).Arrive(-1).WaitAsync(Patience));
        Assert.False(one.IsCompleted || two.IsCompleted || three.IsCompleted || four.IsCompleted);
        first.SetResult();
        await Task.WhenAll(one, two, three, four).WaitAsync(Patience);
        Assert.Equal([-1, 1, 2, 3, 4], await Logs.GetByName(name).Arrived());
    }

    [Fact]
    public async Task CallsMadeJustAfterTheGateOpensStillArriveAfterTheHeldOnes()
    {
        var name = ServerFixture.UniqueName("log");
        var stub = Logs.GetByName(name);
        var calls = new List<Task<int>>();
        var expected = new List<int>();
        for (var round = 0; round < 100; round++)
        {
            var writes = Writes();
            _gate.PendingWrites = writes.Task;
            calls.Add(_gate.Run(() => stub.Arrive(expected.Count)));
            expected.Add(expected.Count);
            // Made while the held call is being let go, from object code whose writes are done and from outside.
            writes.SetResult();
            _gate.PendingWrites = null;
            for (var i = 0; i < 5; i++)
            {
                calls.Add(i % 2 == 0 ? _gate.Run(() => stub.Arrive(expected.Count)) : stub.Arrive(expected.Count));
                expected.Add(expected.Count);
            }
        }
        await Task.WhenAll(calls).WaitAsync(Patience);
        Assert.Equal(expected, await Logs.GetByName(name).Arrived());
    }

    [Fact]
    public async Task AFailedWriteFailsTheCallsMadeWhileItWasPendingWithItsErrorAndNeverSendsThem()
    {
        var name = ServerFixture.UniqueName("log");
        var stub = Logs.GetByName(name);
        var writes = Writes();
        _gate.PendingWrites = writes.Task;
        var one = _gate.Run(() => stub.Arrive(1));
        var two = _gate.Run(() => stub.Arrive(2));
        // Made outside object code: held only behind the others, so it goes once they are done with.
        var three = stub.Arrive(3);

        var failure = new InvalidOperationException("The write failed.");
        writes.SetException(failure);

        Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(() => one.WaitAsync(Patience)));
        Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(() => two.WaitAsync(Patience)));
        Assert.Equal(1, await three.WaitAsync(Patience));
        // Object code whose writes failed sends nothing more; the stub itself stays usable.
        var five = _gate.Run(() => stub.Arrive(5));
        Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(() => five.WaitAsync(Patience)));
        Assert.Equal(2, await stub.Arrive(6).WaitAsync(Patience));
        Assert.Equal([3, 6], await Logs.GetByName(name).Arrived());
    }

    [Fact]
    public async Task ACancelledHeldCallFailsAtOnceAndHoldsNoCallBehindIt()
    {
        var name = ServerFixture.UniqueName("log");
        var stub = Logs.GetByName(name);
        var writes = Writes();
        using var canceller = new CancellationTokenSource();
        _gate.PendingWrites = writes.Task;
        var held = _gate.Run(() => stub.Arrive(1, canceller.Token));
        var behind = stub.Arrive(2);
        Assert.Equal(1, await Logs.GetByName(name).Arrive(-1).WaitAsync(Patience));
        Assert.False(behind.IsCompleted);

        canceller.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held.WaitAsync(Patience));
        // The writes it waited for are still pending: the call behind it waited only for it.
        Assert.Equal(2, await behind.WaitAsync(Patience));
        Assert.False(writes.Task.IsCompleted);
        Assert.Equal([-1, 2], await Logs.GetByName(name).Arrived());
    }

    [Fact]
    public async Task ACancelledCallInTheMiddleOfTheHeldOnesLeavesTheOthersInOrder()
    {
        var name = ServerFixture.UniqueName("log");
        var stub = Logs.GetByName(name);
        var writes = Writes();
        using var canceller = new CancellationTokenSource();
        _gate.PendingWrites = writes.Task;
        var one = _gate.Run(() => stub.Arrive(1));
        var two = _gate.Run(() => stub.Arrive(2, canceller.Token));
        var three = _gate.Run(() => stub.Arrive(3));

        canceller.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => two.WaitAsync(Patience));
        Assert.False(one.IsCompleted || three.IsCompleted);
        writes.SetResult();

        Assert.Equal(1, await one.WaitAsync(Patience));
        Assert.Equal(2, await three.WaitAsync(Patience));
        Assert.Equal([1, 3], await Logs.GetByName(name).Arrived());
    }

    [Fact]
    public async Task HeldCallsCountAgainstTheClientsQueuedCallsLimit()
    {
        await using var client = await DurableObjectClient.ConnectAsync(fixture.Server.Address, new DurableObjectClientOptions { MaxQueuedCalls = 3 });
        var logs = client.GetNamespace<ArrivalLogStub>(ArrivalServer.Namespace);
        var name = ServerFixture.UniqueName("log");
        var stub = logs.GetByName(name);
        var writes = Writes();
        _gate.PendingWrites = writes.Task;
        var held = Enumerable.Range(1, 3).Select(i => _gate.Run(() => stub.Arrive(i))).ToArray();

        var refusedHeld = _gate.Run(() => stub.Arrive(4));
        var refused = logs.GetByName(name).Arrive(5);

        Assert.True(refusedHeld.IsCompleted && refused.IsCompleted, "calls past the limit fail at once");
        Assert.True((await Assert.ThrowsAsync<DurableObjectException>(() => refusedHeld)).Overloaded);
        Assert.True((await Assert.ThrowsAsync<DurableObjectException>(() => refused)).Overloaded);
        writes.SetResult();
        var answers = await Task.WhenAll(held).WaitAsync(Patience);
        Assert.Equal([1, 2, 3], answers);
        Assert.Equal(4, await stub.Arrive(6).WaitAsync(Patience));
        Assert.Equal([1, 2, 3, 6], await logs.GetByName(name).Arrived());
    }

    [Fact]
    public async Task DisposingAStubWaitsForItsHeldCallsToBeSentAndAnswered()
    {
        var name = ServerFixture.UniqueName("log");
        var stub = Logs.GetByName(name);
        var writes = Writes();
        _gate.PendingWrites = writes.Task;
        var held = _gate.Run(() => stub.Arrive(1));

        var disposed = stub.DisposeAsync().AsTask();

        Assert.Equal(1, await Logs.GetByName(name).Arrive(-1).WaitAsync(Patience));
        Assert.False(disposed.IsCompleted);
        writes.SetResult();
        Assert.Equal(2, await held.WaitAsync(Patience));
        await disposed.WaitAsync(Patience);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stub.Arrive(3));
    }

    [Fact]
    public async Task WithNoWritesPendingCallsLeaveAtOnceAsBefore()
    {
        var name = ServerFixture.UniqueName("log");
        var stub = Logs.GetByName(name);
        var probe = Logs.GetByName(name);

        _gate.PendingWrites = null;
        var noneYet = _gate.Run(() => stub.Arrive(1));
        Assert.Equal(2, await probe.Arrive(-1).WaitAsync(Patience));
        _gate.PendingWrites = Task.CompletedTask;
        var allDurable = _gate.Run(() => stub.Arrive(2));
        Assert.Equal(4, await probe.Arrive(-2).WaitAsync(Patience));
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new SynchronizationContext());
        Task<int> notObjectCode;
        try
        {
            notObjectCode = stub.Arrive(3);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
        Assert.Equal(6, await probe.Arrive(-3).WaitAsync(Patience));

        var answers = await Task.WhenAll(noneYet, allDurable, notObjectCode);
        Assert.Equal([1, 3, 5], answers);
        Assert.Equal([1, -1, 2, -2, 3, -3], await probe.Arrived());
    }

    [Fact]
    public async Task ObjectsCallingObjectsOnTheSameServerAreHeldToo()
    {
        // The namespaces an object's constructor is given: their stubs travel in process, not over a socket.
        var local = fixture.Server.App.Services.GetRequiredService<IDurableObjectNamespaceProvider>().GetNamespace<ArrivalLogStub>();
        var name = ServerFixture.UniqueName("log");
        var stub = local.GetByName(name);
        var writes = Writes();
        _gate.PendingWrites = writes.Task;

        var held = _gate.Run(() => stub.Arrive(1));
        var behind = stub.Arrive(2);

        Assert.Equal(1, await local.GetByName(name).Arrive(-1).WaitAsync(Patience));
        Assert.False(held.IsCompleted || behind.IsCompleted);
        writes.SetResult();
        var answers = await Task.WhenAll(held, behind).WaitAsync(Patience);
        Assert.Equal([2, 3], answers);
        Assert.Equal([-1, 1, 2], await local.GetByName(name).Arrived());
    }

    private static TaskCompletionSource Writes() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A real server hosting <see cref="ArrivalLog"/>, and a client connected to it.</summary>
    public sealed class ArrivalServer : IAsyncLifetime
    {
        public const string Namespace = "ARRIVALS";

        public RunningServer Server { get; private set; } = null!;

        public DurableObjectClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Server = await RunningServer.StartAsync(options => options.AddNamespace<ArrivalLog>(Namespace));
            Client = await Server.ConnectAsync();
        }

        public async Task DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }
}
