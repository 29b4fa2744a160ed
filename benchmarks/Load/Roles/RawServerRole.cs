using Grpc.Core;
using SourceGenDO.Load.Raw;

namespace SourceGenDO.Load.Roles;

/// <summary>A bare Kestrel gRPC server doing the counter's work: the baseline the framework is measured against.</summary>
internal static class RawServerRole
{
    public static async Task RunAsync(Arguments arguments)
    {
        var builder = ServerLifetime.CreateBuilder(arguments);
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<RawBenchService>();
        await ServerLifetime.RunUntilStdinClosesAsync(app);
    }

    private sealed class RawBenchService : RawBench.RawBenchBase
    {
        private long _unaryValue;

        public override async Task Calls(IAsyncStreamReader<RawRequest> requestStream, IServerStreamWriter<RawResponse> responseStream, ServerCallContext context)
        {
            long value = 0;
            await foreach (var request in requestStream.ReadAllAsync())
            {
                value += request.Amount;
                await responseStream.WriteAsync(new RawResponse { Id = request.Id, Value = value });
            }
        }

        public override async Task Packed(IAsyncStreamReader<RawBatch> requestStream, IServerStreamWriter<RawBatchResponse> responseStream, ServerCallContext context)
        {
            long value = 0;
            await foreach (var batch in requestStream.ReadAllAsync())
            {
                var response = new RawBatchResponse();
                foreach (var request in batch.Calls)
                {
                    value += request.Amount;
                    response.Results.Add(new RawResponse { Id = request.Id, Value = value });
                }
                await responseStream.WriteAsync(response);
            }
        }

        public override Task<RawResponse> Ping(RawRequest request, ServerCallContext context) =>
            Task.FromResult(new RawResponse { Id = request.Id, Value = Interlocked.Add(ref _unaryValue, request.Amount) });
    }
}
