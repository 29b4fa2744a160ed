using System.Text;
using SourceGenDO.Server.Storage;

namespace SourceGenDO.Server.Tests.Storage;

/// <summary>Short ways to make addresses, values and write batches in storage tests.</summary>
internal static class Batches
{
    public static ObjectAddress Address(string id, string ns = "ns") => new(ns, id.PadLeft(64, '0'));

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string? Text(byte[]? value) => value is null ? null : Encoding.UTF8.GetString(value);

    /// <summary>A batch putting each key's own name as its value, or deleting the key when the value is null.</summary>
    public static ObjectWriteBatch Write(ObjectAddress address, params (string Key, string? Value)[] writes) =>
        Write(address, null, writes);

    public static ObjectWriteBatch Write(ObjectAddress address, string? name, params (string Key, string? Value)[] writes)
    {
        var batch = new ObjectWriteBatch(address, name);
        foreach (var (key, value) in writes)
        {
            batch.Writes[key] = value is null ? null : Bytes(value);
            batch.Bytes += Encoding.UTF8.GetByteCount(key) + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));
        }
        return batch;
    }

    public static ObjectWriteBatch Alarm(ObjectAddress address, DateTimeOffset? time, string? name = null) =>
        new(address, name) { AlarmChanged = true, Alarm = time };

    public static ObjectWriteBatch DeleteAll(ObjectAddress address, params (string Key, string? Value)[] writes)
    {
        var batch = Write(address, writes);
        batch.DeleteAll = true;
        return batch;
    }
}
