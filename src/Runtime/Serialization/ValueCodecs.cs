using System.ComponentModel;

namespace SourceGenDO.Serialization;

/// <summary>
/// The codecs of stored values, one per type, found without reflection: a static field per type that
/// generated module initializers fill (<see cref="Register{T}"/>). The scalars of SPEC.md section 3 and
/// their nullable forms are built in; the generator emits the rest.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ValueCodecs
{
    static ValueCodecs() => ScalarCodecs.RegisterAll();

    /// <summary>Makes <paramref name="codec"/> the codec of <typeparamref name="T"/>; generated code calls this.</summary>
    public static void Register<T>(ValueCodec<T> codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        Holder<T>.Codec = codec;
    }

    /// <summary>The codec of <typeparamref name="T"/>, or a clear error when none was generated.</summary>
    internal static ValueCodec<T> Get<T>() =>
        Holder<T>.Codec ?? throw new InvalidOperationException(
            $"No storage codec was generated for '{typeof(T)}'. The generator emits one for every type that code in a project referencing SourceGenDO.Runtime passes to Ctx.Storage; store a concrete type (not a type parameter) of SPEC.md section 3.");

    internal static bool IsRegistered<T>() => Holder<T>.Codec is not null;

    private static class Holder<T>
    {
        public static ValueCodec<T>? Codec;
    }
}
