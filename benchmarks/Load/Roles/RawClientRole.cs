using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using SourceGenDO.Load.Raw;

namespace SourceGenDO.Load.Roles;

/// <summary>
/// The raw gRPC baselines: one bidirectional stream per object, with callers' requests written one
/// message per call (raw) or packed into one message per write (raw-packed).
/// </summary>
internal static class RawClientRole
{
    public static async Task<ScenarioResult> RunAsync(Arguments arguments, Scenario scenario, bool packed)
    {
        using var channel = CreateChannel(arguments);
        var client = new RawBench.RawBenchClient(channel);
        var streams = Enumerable.Range(0, scenario.Objects).Select(_ => new RawStream(client, packed)).ToArray();
        try
        {
            return await scenario.RunAsync(packed ? "raw-packed" : "raw",
                (caller, n) => streams[scenario.ObjectFor(caller, n)].Increment(1),
                arguments.GetDouble("warmup", 2), arguments.GetDouble("seconds", 10), SgdoClientRole.ServerPid(arguments));
        }
        finally
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }
    }

    public static async Task<ScenarioResult> FirstCallAsync(Arguments arguments)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var channel = CreateChannel(arguments);
                await new RawBench.RawBenchClient(channel).PingAsync(new RawRequest { Id = 1, Amount = 1 });
                return new ScenarioResult("kestrel", "first-call", FirstCallUnixMs: DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }
        }
    }

    private static GrpcChannel CreateChannel(Arguments arguments) =>
        GrpcChannel.ForAddress($"http://127.0.0.1:{arguments.Require("port")}", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });

    /// <summary>One stream: a writer loop that owns the request stream and a reader loop that completes calls.</summary>
    private sealed class RawStream : IDisposable
    {
        private readonly Channel<(ulong Id, TaskCompletionSource<long> Result)> _queue =
            Channel.CreateUnbounded<(ulong, TaskCompletionSource<long>)>(new UnboundedChannelOptions { SingleReader = true });
        private readonly ConcurrentDictionary<ulong, TaskCompletionSource<long>> _pending = new();
        private readonly CancellationTokenSource _stop = new();
        private long _nextId;

        public RawStream(RawBench.RawBenchClient client, bool packed)
        {
            if (packed)
            {
                var call = client.Packed(cancellationToken: _stop.Token);
                _ = Task.Run(() => WritePackedAsync(call.RequestStream));
                _ = Task.Run(async () =>
                {
                    await foreach (var batch in call.ResponseStream.ReadAllAsync(_stop.Token))
                    {
                        foreach (var result in batch.Results)
                        {
                            Complete(result);
                        }
                    }
                });
            }
            else
            {
                var call = client.Calls(cancellationToken: _stop.Token);
                _ = Task.Run(() => WriteEachAsync(call.RequestStream));
                _ = Task.Run(async () =>
                {
                    await foreach (var result in call.ResponseStream.ReadAllAsync(_stop.Token))
                    {
                        Complete(result);
                    }
                });
            }
        }

        public Task<long> Increment(long amount)
        {
            var id = (ulong)Interlocked.Increment(ref _nextId);
            var result = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = result;
            _queue.Writer.TryWrite((id, result));
            return result.Task;
        }

        public void Dispose() => _stop.Cancel();

        private void Complete(RawResponse response)
        {
            if (_pending.TryRemove(response.Id, out var result))
            {
                result.TrySetResult(response.Value);
            }
        }

        private async Task WriteEachAsync(IClientStreamWriter<RawRequest> requests)
        {
            await foreach (var (id, _) in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                await requests.WriteAsync(new RawRequest { Id = id, Amount = 1 });
            }
        }

        private async Task WritePackedAsync(IClientStreamWriter<RawBatch> requests)
        {
            var reader = _queue.Reader;
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                var batch = new RawBatch();
                while (reader.TryRead(out var queued))
                {
                    batch.Calls.Add(new RawRequest { Id = queued.Id, Amount = 1 });
                }
                await requests.WriteAsync(batch);
            }
        }
    }
}
