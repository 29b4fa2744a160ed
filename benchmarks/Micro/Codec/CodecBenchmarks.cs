using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using SourceGenDO.Dispatch;
using SourceGenDO.Serialization;

namespace SourceGenDO.Micro.Codec;

/// <summary>
/// The per-call codec work of <c>Increment(long)</c> and <c>Place(Order)</c>, one side at a time:
/// the stub encoding the arguments, the generated dispatcher (decode arguments, call the object,
/// encode the result) and the stub decoding the result. No transport, no scheduling.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CodecBenchmarks
{
    private readonly Order _order = new("order-000123", 3, 19.99m, ["express", "gift", "fragile"]);
    private DurableObjectDispatcher _dispatcher = null!;
    private DurableObject _instance = null!;
    private byte[] _incrementArguments = null!;
    private byte[] _incrementResult = null!;
    private byte[] _placeArguments = null!;
    private byte[] _placeResult = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dispatcher = DurableObjectRegistry.Get<BenchCounter>();
        _instance = _dispatcher.Create(new DurableObjectState(DurableObjectId.ForTesting("bench")));
        ClientWireCodec.Verify(_dispatcher, _instance, _order);
        _incrementArguments = ClientWireCodec.EncodeIncrementArguments(1);
        _incrementResult = ClientWireCodec.Invoke(_dispatcher, _instance, "Increment", _incrementArguments);
        _placeArguments = ClientWireCodec.EncodePlaceArguments(_order);
        _placeResult = ClientWireCodec.Invoke(_dispatcher, _instance, "Place", _placeArguments);
    }

    [Benchmark, BenchmarkCategory("Increment")]
    public byte[] Increment_EncodeArguments() => ClientWireCodec.EncodeIncrementArguments(1);

    [Benchmark, BenchmarkCategory("Increment")]
    public ReadOnlyMemory<byte> Increment_Dispatch() => Dispatch("Increment", _incrementArguments);

    [Benchmark, BenchmarkCategory("Increment")]
    public long Increment_DecodeResult() => ClientWireCodec.DecodeIncrementResult(_incrementResult);

    [Benchmark, BenchmarkCategory("Place")]
    public byte[] Place_EncodeArguments() => ClientWireCodec.EncodePlaceArguments(_order);

    [Benchmark, BenchmarkCategory("Place")]
    public ReadOnlyMemory<byte> Place_Dispatch() => Dispatch("Place", _placeArguments);

    [Benchmark, BenchmarkCategory("Place")]
    public Order? Place_DecodeResult() => ClientWireCodec.DecodePlaceResult(_placeResult);

    // The server calls InvokeAsync with the method name and the argument bytes of one Call; both methods
    // here finish synchronously, so the ValueTask is read without awaiting.
    private ReadOnlyMemory<byte> Dispatch(string method, byte[] arguments)
    {
        var pending = _dispatcher.InvokeAsync(_instance, method, arguments, CancellationToken.None);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }
}
