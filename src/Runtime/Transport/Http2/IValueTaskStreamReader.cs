namespace SourceGenDO.Transport.Http2;

/// <summary>
/// A response stream whose reads can wait without allocating: <see cref="MoveNextValueAsync"/> returns a
/// reusable awaitable, to be awaited once, before the next read. <c>Current</c> is read as usual.
/// </summary>
internal interface IValueTaskStreamReader
{
    ValueTask<bool> MoveNextValueAsync();
}
