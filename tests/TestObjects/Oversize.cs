namespace SourceGenDO.TestObjects;

/// <summary>Answers with errors and results as large as asked: tests how frames are sized and split.</summary>
public class Oversize(DurableObjectState ctx) : DurableObject(ctx)
{
    /// <summary>Throws an exception whose message is <paramref name="n"/> characters long.</summary>
    public Task Throw(int n) => throw new InvalidOperationException(new string('x', n));

    /// <summary>Returns <paramref name="n"/> bytes, each the low byte of its index.</summary>
    public Task<byte[]> Bytes(int n)
    {
        var bytes = new byte[n];
        for (var i = 0; i < n; i++)
        {
            bytes[i] = (byte)i;
        }
        return Task.FromResult(bytes);
    }

    public Task<int> Ping(int value) => Task.FromResult(value);
}
