using BenchmarkDotNet.Attributes;
using SourceGenDO.Dispatch;
using SourceGenDO.Micro.Codec;

namespace SourceGenDO.Micro.Client;

/// <summary>
/// The client's hot path for one call through a generated stub, over the real gRPC client, the stub's
/// channel and the client's shared stream, but no server: <see cref="InMemoryGrpcTransport"/> answers
/// inside the HTTP handler.
/// </summary>
/// <remarks>
/// Allocated counts every thread: the stub call, the stream's frame writer and reader loop, the gRPC
/// client, and the fake server (its own share is printed at cleanup; it is near zero). Time includes
/// the thread-pool hops of those loops, so it is a latency floor for this machine, not a server figure.
/// </remarks>
[MemoryDiagnoser]
public class StubCallBenchmarks
{
    /// <summary>Calls made without awaiting each, then awaited in order, as a pipelining caller does.</summary>
    public const int Pipelined = 64;

    private readonly Order _order = new("order-000123", 3, 19.99m, ["express", "gift", "fragile"]);
    private readonly Task<long>[] _pipelined = new Task<long>[Pipelined];
    private readonly ValueTask<long>[] _pipelinedValues = new ValueTask<long>[Pipelined];
    private InMemoryGrpcTransport _transport = null!;
    private DurableObjectClient _client = null!;
    private BenchCounterStub _stub = null!;

    [GlobalSetup]
    public void Setup()
    {
        // The answers are what the generated dispatcher encodes, so the stub decodes real results.
        var dispatcher = DurableObjectRegistry.Get<BenchCounter>();
        var instance = dispatcher.Create(new DurableObjectState(DurableObjectId.ForTesting("bench")));
        var results = new Dictionary<string, byte[]>
        {
            ["Increment"] = ClientWireCodec.Invoke(dispatcher, instance, "Increment", ClientWireCodec.EncodeIncrementArguments(42)),
            ["IncrementValue"] = ClientWireCodec.Invoke(dispatcher, instance, "IncrementValue", ClientWireCodec.EncodeIncrementArguments(0)),
            ["Place"] = ClientWireCodec.Invoke(dispatcher, instance, "Place", ClientWireCodec.EncodePlaceArguments(_order)),
        };
        _transport = new InMemoryGrpcTransport(typeof(BenchCounter).FullName!, results);
        _client = Within(DurableObjectClient.ConnectAsync(
            new Uri("http://in-memory.invalid"),
            new DurableObjectClientOptions { HttpHandler = _transport }));
        _stub = _client.GetNamespace<BenchCounterStub>(InMemoryGrpcTransport.Namespace).GetByName("bench");

        // A call that the transport cannot answer would otherwise hang the whole run.
        var value = Within(_stub.Increment(1));
        var order = Within(_stub.Place(_order));
        var sameValue = Within(_stub.IncrementValue(1).AsTask());
        if (value != 42 || sameValue != 42 || order.Id != _order.Id || !order.Tags.SequenceEqual(_order.Tags))
        {
            throw new InvalidOperationException($"The stub decoded {value} and {order} over the in-memory transport.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// in-memory transport: {_transport.Calls} calls answered, fake server allocated {_transport.ServerBytesPerCall:F1} B/call (included in Allocated)");
        Within(_stub.DisposeAsync().AsTask());
        _client.Dispose();
    }

    /// <summary>One call, awaited before the next: one frame each way per call.</summary>
    [Benchmark]
    public Task<long> Increment() => _stub.Increment(1);

    /// <summary>64 calls in flight, then awaited: the writer loop packs them into few frames.</summary>
    [Benchmark(OperationsPerInvoke = Pipelined)]
    public async Task<long> Increment_Pipelined()
    {
        for (var i = 0; i < _pipelined.Length; i++)
        {
            _pipelined[i] = _stub.Increment(1);
        }
        long sum = 0;
        for (var i = 0; i < _pipelined.Length; i++)
        {
            sum += await _pipelined[i].ConfigureAwait(false);
        }
        return sum;
    }

    /// <summary>
    /// <see cref="Increment_Pipelined"/> through a <see cref="ValueTask{TResult}"/> method: the stub's
    /// awaitable is pooled, so what remains is the transport's per-frame cost.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Pipelined)]
    public async Task<long> IncrementValue_Pipelined()
    {
        for (var i = 0; i < _pipelinedValues.Length; i++)
        {
            _pipelinedValues[i] = _stub.IncrementValue(1);
        }
        long sum = 0;
        for (var i = 0; i < _pipelinedValues.Length; i++)
        {
            sum += await _pipelinedValues[i].ConfigureAwait(false);
        }
        return sum;
    }

    /// <summary>One call with the Order record as argument and result.</summary>
    [Benchmark]
    public Task<Order> Place() => _stub.Place(_order);

    private T Within<T>(Task<T> task)
    {
        Within((Task)task);
        return task.Result;
    }

    private void Within(Task task)
    {
        if (!task.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"No answer over the in-memory transport within 30 s (transport failure: {_transport.Failure?.Message ?? "none"}).");
        }
    }
}
