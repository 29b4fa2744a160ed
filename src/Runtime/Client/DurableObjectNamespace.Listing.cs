namespace SourceGenDO;

public sealed partial class DurableObjectNamespace<TStub>
{
    /// <summary>
    /// The objects of this namespace that have stored data (keys or an alarm), ordered by id, asked of the
    /// server (its listing service, the same listing as
    /// <c>GET /api/durable_objects/namespaces/{namespace}/objects</c>) one page at a time as the sequence is
    /// read. Each id carries its name when the server knows it, so <c>Get(info.Id)</c> reaches the object.
    /// </summary>
    /// <remarks>
    /// The listing reads what is committed: an object appears once its first write is durable (before any
    /// call that made it returned), and leaves once a <c>DeleteAllAsync</c> (or deleting its last key and
    /// alarm) is durable. Paging is by id, so an object that exists during the whole enumeration is read
    /// exactly once, however many objects are created or deleted meanwhile; those may or may not appear.
    /// </remarks>
    /// <param name="pageSize">Objects asked for per round trip, from 10 to 10,000.</param>
    /// <param name="cancellationToken">Ends the sequence (the next read throws <see cref="OperationCanceledException"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageSize"/> is out of range (thrown at once).</exception>
    /// <exception cref="DurableObjectException">The server could not be asked (<see cref="DurableObjectException.Retryable"/> when it could not be reached), thrown by the read.</exception>
    /// <example>
    /// <code>
    /// await foreach (var info in counters.ListObjectsAsync())
    ///     Console.WriteLine($"{info.Id} {info.Name} {info.HasStoredData}");
    /// </code>
    /// </example>
    public IAsyncEnumerable<DurableObjectInfo> ListObjectsAsync(int pageSize = ListingRpc.DefaultObjectsPerPage, CancellationToken cancellationToken = default) =>
        _client.ListObjectsCore(Name, pageSize, cancellationToken);
}
