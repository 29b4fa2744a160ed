using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace SourceGenDO.Server.Hosting;

/// <summary>
/// The Kestrel limits that <c>AddDurableObjects</c> sets by default, so that sockets which connect and
/// never speak (or stop answering) can neither hold the server's connections for long nor use up its
/// open files. Registered ahead of every other configuration of Kestrel: whatever the app sets itself,
/// before or after <c>AddDurableObjects</c>, in code or configuration, runs later and wins.
/// </summary>
internal sealed class KestrelConnectionDefaults : IConfigureOptions<KestrelServerOptions>
{
    /// <summary>
    /// How long a connection with no stream open may stay silent: one that never sends the HTTP/2
    /// preface, sends only the preface, or has no call left. Kestrel applies its keep-alive timeout to
    /// all three; its own default is 130 s.
    /// </summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a connection with streams open may receive nothing before Kestrel pings it, and how long
    /// the answer may take before the connection is closed: a vanished client no longer holds its
    /// connection for good. Kestrel's own default never pings.
    /// </summary>
    public static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(30);

    /// <inheritdoc cref="KeepAlivePingDelay"/>
    public static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Open files kept free of connections, beyond those open when Kestrel starts, at the least: assemblies
    /// loaded later, threads (the runtime takes a pipe for each), files, SQLite, outgoing sockets.
    /// </summary>
    public const long MinimumHeadroom = 128;

    public void Configure(KestrelServerOptions options)
    {
        var limits = options.Limits;
        limits.KeepAliveTimeout = KeepAliveTimeout;
        limits.Http2.KeepAlivePingDelay = KeepAlivePingDelay;
        limits.Http2.KeepAlivePingTimeout = KeepAlivePingTimeout;
        // Read when Kestrel starts: by then the files the app keeps open (about 150 assemblies for an
        // ASP.NET Core app) are open.
        if (ConnectionBudget(OpenFileLimit.Current(), OpenFileLimit.OpenNow()) is { } budget)
        {
            // An upgraded connection (a WebSocket over HTTP/1.1) leaves the count of connections for a
            // count of its own: together they stay within the budget.
            limits.MaxConcurrentUpgradedConnections = budget / 2;
            limits.MaxConcurrentConnections = budget - budget / 2;
        }
    }

    /// <summary>
    /// How many sockets Kestrel may hold open under an open-file limit of <paramref name="openFileLimit"/>
    /// with <paramref name="openNow"/> files open already: what is left, less an eighth of the limit (at
    /// least <see cref="MinimumHeadroom"/>). Past the limit accept fails, and the runtime cannot even start
    /// a thread then (it needs a pipe for that), so it aborts the process ("Out of memory.").
    /// </summary>
    public static long? ConnectionBudget(long? openFileLimit, long openNow) =>
        openFileLimit is { } limit ? Math.Max(limit - openNow - Math.Max(MinimumHeadroom, limit / 8), 2) : null;
}
