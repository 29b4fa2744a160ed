using System.Threading.Channels;

namespace SourceGenDO.Server.Storage.Sqlite;

/// <summary>
/// A fixed set of read connections, lent to one reader at a time. Bound: the number of connections,
/// opened up front; a reader that finds none idle waits (asynchronously) for one to come back.
/// </summary>
internal sealed class SqliteReadPool : IAsyncDisposable
{
    private readonly Channel<SqliteReadConnection> _idle;
    private readonly int _size;
    private volatile bool _disposed;

    public SqliteReadPool(string path, int size)
    {
        _size = size;
        _idle = Channel.CreateBounded<SqliteReadConnection>(size);
        try
        {
            for (var i = 0; i < size; i++)
            {
                _idle.Writer.TryWrite(new SqliteReadConnection(path));
            }
        }
        catch
        {
            while (_idle.Reader.TryRead(out var connection))
            {
                connection.Dispose();
            }
            throw;
        }
    }

    /// <summary>Runs <paramref name="read"/> on an idle connection, on the calling thread (a read is short and never waits for a commit).</summary>
    public async ValueTask<T> ReadAsync<TState, T>(TState state, Func<SqliteReadConnection, TState, T> read, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_idle.Reader.TryRead(out var connection))
        {
            connection = await _idle.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return read(connection, state);
        }
        finally
        {
            _idle.Writer.TryWrite(connection);
        }
    }

    /// <summary>Waits for every connection to come back and closes them all.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        for (var i = 0; i < _size; i++)
        {
            (await _idle.Reader.ReadAsync().ConfigureAwait(false)).Dispose();
        }
    }
}
