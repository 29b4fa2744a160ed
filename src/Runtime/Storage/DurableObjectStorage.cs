namespace SourceGenDO;

/// <summary>
/// An instance's private, strongly consistent, durable storage (<c>Ctx.Storage</c>): a sorted key-value
/// store whose writes need no <c>await</c>, because the runtime's gates make them safe.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Input gate: while a read that the in-memory cache cannot answer is pending, and during
/// <see cref="TransactionAsync(Func{DurableObjectTransaction, Task})"/>, no other event reaches the instance.</item>
/// <item>Write coalescing: writes made with no <c>await</c> between them become durable together or not at all.</item>
/// <item>Output gate: a result, an exception or a call to another object that an event produces after a
/// write leaves only once that write is durable. If the write fails, nothing held leaves: the callers get
/// an error and the instance is reset.</item>
/// </list>
/// </remarks>
public sealed class DurableObjectStorage : DurableObjectStorageOperations
{
    private readonly IInstanceHost _host;

    internal DurableObjectStorage(IInstanceHost host) => _host = host;

    private protected override IStorageCore Core => _host.Storage;

    /// <summary>Deletes every key and the alarm, atomically. Need not be awaited, as <see cref="DurableObjectStorageOperations.Put{T}"/>.</summary>
    public ValueTask DeleteAllAsync()
    {
        _host.Storage.DeleteAll();
        return ValueTask.CompletedTask;
    }

    /// <summary>Completes when every write made so far is durable.</summary>
    public ValueTask SyncAsync() => _host.Storage.SyncAsync();

    /// <summary>
    /// Runs <paramref name="body"/> as one transaction: no other event reaches the instance until it ends;
    /// its writes become visible and durable together when it returns, and are discarded when it throws
    /// (the exception then propagates, and the instance keeps running) or calls
    /// <see cref="DurableObjectTransaction.Rollback"/>.
    /// </summary>
    public Task TransactionAsync(Func<DurableObjectTransaction, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return TransactionAsync<object?>(async transaction =>
        {
            await body(transaction).ConfigureAwait(true);
            return null;
        });
    }

    /// <inheritdoc cref="TransactionAsync(Func{DurableObjectTransaction, Task})"/>
    public Task<T> TransactionAsync<T>(Func<DurableObjectTransaction, Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return _host.RunExclusiveAsync(
            async () =>
            {
                var transaction = new DurableObjectTransaction(_host.Storage);
                T result;
                try
                {
                    result = await body(transaction).ConfigureAwait(true);
                }
                finally
                {
                    transaction.End();
                }
                transaction.CommitInto(_host.Storage);
                return result;
            },
            resetOnFailure: false);
    }
}
