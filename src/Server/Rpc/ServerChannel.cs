using System.Text;
using SourceGenDO.Serialization;
using SourceGenDO.Server.Execution;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Rpc;

/// <summary>
/// One stub's channel on a server stream: the object it is bound to, or the error it was refused with.
/// </summary>
internal sealed class ServerChannel
{
    private ServerChannel(NamespaceHost? host, DurableObjectId? id, Error? refusal)
    {
        Host = host;
        Id = id;
        Refusal = refusal;
    }

    public NamespaceHost? Host { get; }

    public DurableObjectId? Id { get; }

    /// <summary>Why the channel was refused, or broke; every call on it is answered with this error.</summary>
    public Error? Refusal { get; private set; }

    /// <summary>
    /// The activation the channel's last call reached. Once that activation is reset, the channel breaks:
    /// SPEC.md section 3 makes a reset break the stubs that reached the instance, while a new stub reaches
    /// a new instance.
    /// </summary>
    public ObjectActivation? Activation { get; set; }

    /// <summary>Breaks the channel: this and every later call on it fail with <paramref name="error"/>.</summary>
    public void Break(Error error) => Refusal ??= error;

    /// <summary>Binds a channel to the object its open entry names, or refuses it saying what was wrong.</summary>
    public static ServerChannel Open(DurableObjectHost objects, OpenChannel open)
    {
        if (string.IsNullOrEmpty(open.Namespace))
        {
            return Refuse("The channel names no namespace.");
        }
        if (!objects.TryGetNamespace(open.Namespace, out var host))
        {
            return Refuse($"The server has no namespace {ClientText.Quote(open.Namespace)}.");
        }
        DurableObjectId id;
        try
        {
            id = host.Key.Parse(open.Id);
        }
        catch (ArgumentException e)
        {
            return Refuse(e.Message);
        }
        if (open.HasName)
        {
            string name;
            try
            {
                name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(open.Name.Span);
            }
            catch (DecoderFallbackException)
            {
                return Refuse("The channel's name is not valid UTF-8.");
            }
            if (!host.Key.IsNameOf(name, id))
            {
                return Refuse("The channel's name is not the name the id was derived from.");
            }
            id = id.WithName(name);
        }
        return new ServerChannel(host, id, null);
    }

    /// <summary>A channel whose calls all fail with <paramref name="message"/>.</summary>
    public static ServerChannel Refuse(string message) => new(null, null, RemoteErrors.FromRuntime(message));
}
