using System.Runtime.InteropServices;

namespace SourceGenDO.Server.Hosting;

/// <summary>The process's limit of open files (RLIMIT_NOFILE, soft), which every accepted socket counts against, and its use.</summary>
internal static class OpenFileLimit
{
    private const int LinuxNoFile = 7;
    private const int MacNoFile = 8;

    /// <summary>The soft limit, or null where there is none or it cannot be read (Windows, unlimited).</summary>
    public static long? Current()
    {
        int resource;
        if (OperatingSystem.IsLinux())
        {
            resource = LinuxNoFile;
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            resource = MacNoFile;
        }
        else
        {
            return null;
        }
        try
        {
            if (GetRLimit(resource, out var limit) != 0 || limit.Current == nuint.MaxValue || limit.Current > long.MaxValue)
            {
                return null;
            }
            return (long)limit.Current;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>How many files the process has open now (Linux, macOS), or 0 where that cannot be read.</summary>
    public static long OpenNow()
    {
        var directory = OperatingSystem.IsLinux() ? "/proc/self/fd" : "/dev/fd";
        try
        {
            return Directory.EnumerateFileSystemEntries(directory).LongCount();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    // rlim_t is an unsigned long on Linux and a 64-bit unsigned on macOS and FreeBSD: nuint on 64-bit, and on 32-bit Linux.
    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public nuint Current;
        public nuint Maximum;
    }

    [DllImport("libc", EntryPoint = "getrlimit")]
    private static extern int GetRLimit(int resource, out RLimit limit);
}
