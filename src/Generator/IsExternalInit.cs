namespace System.Runtime.CompilerServices;

/// <summary>Lets records with init-only members compile for netstandard2.0, which lacks this type.</summary>
internal static class IsExternalInit
{
}
