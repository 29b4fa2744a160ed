using SourceGenDO.Serialization;

namespace SourceGenDO.Dispatch;

/// <summary>A call named a method the object class does not expose; the host reports it as a runtime error.</summary>
internal sealed class UnknownMethodException(string method)
    : DurableObjectException($"The RPC receiver does not implement the method {ClientText.Quote(method)}.");
