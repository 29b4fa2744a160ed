using SourceGenDO.Ids;
using SourceGenDO.Wire;

namespace SourceGenDO.Runtime.Tests;

public sealed class RemoteErrorsTests
{
    private static readonly DurableObjectId Id = new NamespaceIdKey(new byte[32]).FromName("x");

    [Fact]
    public void ATypeNamedOnTheWireIsNeverInstantiatedUnlessItIsOnTheStandardList()
    {
        var error = new Error { Type = "System.IO.FileNotFoundException", Message = "m", Remote = true };
        var exception = Assert.IsType<DurableObjectException>(RemoteErrors.ToException(error, Id));
        Assert.Equal("System.IO.FileNotFoundException", exception.RemoteType);
        Assert.True(exception.Remote);
        Assert.Equal(Id, exception.DurableObjectId);
    }

    [Fact]
    public void RuntimeErrorsKeepTheirFlagsAndAreNotRemote()
    {
        var error = RemoteErrors.FromRuntime(RemoteErrors.OverloadedMessage, overloaded: true);
        var exception = Assert.IsType<DurableObjectException>(RemoteErrors.ToException(error, Id));
        Assert.True(exception.Overloaded);
        Assert.False(exception.Remote);
        Assert.False(exception.IsRemote());
    }

    [Fact]
    public void ObjectCodeExceptionsCarryTypeAndMessageButNoStackTrace()
    {
        Exception thrown;
        try
        {
            throw new KeyNotFoundException("missing");
        }
        catch (Exception e)
        {
            thrown = e;
        }
        var error = RemoteErrors.FromObjectCode(thrown);
        Assert.Equal("System.Collections.Generic.KeyNotFoundException", error.Type);
        Assert.Equal("missing", error.Message);
        Assert.DoesNotContain("RemoteErrorsTests", error.ToString());
        var back = Assert.IsType<KeyNotFoundException>(RemoteErrors.ToException(error, Id));
        Assert.True(back.IsRemote());
        Assert.Equal(Id, back.GetDurableObjectId());
    }
}
