namespace SourceGenDO.TestObjects;

/// <summary>Throws on request, to test how exceptions cross to callers.</summary>
public class Thrower(DurableObjectState ctx) : DurableObject(ctx)
{
    private int _calls;

    public Task ThrowInvalidOperation(string message)
    {
        _calls++;
        throw new InvalidOperationException(message);
    }

    public async Task<int> ThrowCustomAfterAwait(string message)
    {
        _calls++;
        await Task.Yield();
        throw new CustomFailureException(message);
    }

    public Task<int> ThrowStandard(string typeName, string message)
    {
        _calls++;
        Exception exception = typeName switch
        {
            nameof(ArgumentException) => new ArgumentException(message),
            nameof(ArgumentNullException) => new ArgumentNullException(null, message),
            nameof(ArgumentOutOfRangeException) => new ArgumentOutOfRangeException(null, message),
            nameof(KeyNotFoundException) => new KeyNotFoundException(message),
            nameof(NotSupportedException) => new NotSupportedException(message),
            nameof(FormatException) => new FormatException(message),
            nameof(TimeoutException) => new TimeoutException(message),
            nameof(UnauthorizedAccessException) => new UnauthorizedAccessException(message),
            nameof(OperationCanceledException) => new OperationCanceledException(message),
            _ => new NotImplementedException(message),
        };
        throw exception;
    }

    /// <summary>How many calls reached the instance: proves it kept its state across exceptions.</summary>
    public Task<int> Calls() => Task.FromResult(_calls);
}

/// <summary>An exception type the client does not know: it arrives as DurableObjectException.</summary>
public sealed class CustomFailureException(string message) : Exception(message);
