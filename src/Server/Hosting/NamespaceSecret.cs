using System.Security.Cryptography;
using System.Text;
using SourceGenDO.Ids;

namespace SourceGenDO.Server.Hosting;

/// <summary>
/// The server secret that every namespace's id key is derived from: configured, or generated once and
/// kept in the data directory so that ids survive restarts.
/// </summary>
internal static class NamespaceSecret
{
    private const string FileName = "namespace-secret.key";

    public static byte[] Load(DurableObjectsOptions options)
    {
        if (options.Secret is { } configured)
        {
            return configured.Length >= 32
                ? configured
                : throw new InvalidOperationException($"DurableObjectsOptions.Secret must be at least 32 bytes; it is {configured.Length}.");
        }
        var directory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        if (File.Exists(path))
        {
            var stored = Convert.FromBase64String(File.ReadAllText(path).Trim());
            return stored.Length >= 32 ? stored : throw new InvalidOperationException($"The secret in {path} is shorter than 32 bytes.");
        }
        var secret = RandomNumberGenerator.GetBytes(32);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, Convert.ToBase64String(secret));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        try
        {
            // Another server starting on the same directory may win the race; then its secret is the one.
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            return Load(options);
        }
        return secret;
    }

    public static NamespaceIdKey KeyFor(byte[] secret, string @namespace) =>
        new(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("sgdo/namespace/" + @namespace)));
}
