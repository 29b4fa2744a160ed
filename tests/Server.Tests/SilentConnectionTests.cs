using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SourceGenDO.TestObjects;
using SourceGenDO.Tests.Shared;

namespace SourceGenDO.Server.Tests;

/// <summary>
/// Sockets that connect and never speak, more of them than the server may open files: the server
/// (a child process under a low open-file limit) stays alive, refuses what it cannot hold, closes the
/// rest after the keep-alive timeout, and serves its clients.
/// </summary>
public sealed class SilentConnectionTests
{
    private const int OpenFileLimit = 512;
    private const int SilentSockets = 600;

    [Fact]
    public async Task SilentSocketsBeyondTheOpenFileLimitAreRefusedWhileTheServerAndItsConnectedClientsGoOn()
    {
        await using var server = await ServerProcess.StartAsync(OpenFileLimit);
        await using var client = await DurableObjectClient.ConnectAsync(server.Address);
        var counter = client.GetNamespace<CounterStub>("COUNTERS").GetByName(Guid.NewGuid().ToString());
        Assert.Equal(1, await counter.Increment());

        var silent = await OpenSilentSocketsAsync(server.Port, SilentSockets);
        try
        {
            // Past its connection limit the server closes new connections at once, instead of taking
            // every file the process may open (Kestrel's own default: no limit, a 130 s timeout).
            await Until(() => ClosedByServer(silent) >= SilentSockets - (OpenFileLimit - 100), "the server refused the sockets beyond its connection limit", server);
            Assert.True(server.OpenFiles() < OpenFileLimit - 32, $"The server has {server.OpenFiles()} files open, near its limit of {OpenFileLimit}.");
            for (var i = 2; i <= 100; i++)
            {
                Assert.Equal(i, await counter.Increment());
            }
            Assert.False(server.HasExited, server.DescribeExit());
        }
        finally
        {
            Close(silent);
        }
    }

    [Fact]
    public async Task SilentSocketsAreClosedAfterTheKeepAliveTimeoutAndANewClientIsServedThen()
    {
        // The app's own keep-alive timeout (1 s) wins over AddDurableObjects' default (30 s).
        await using var server = await ServerProcess.StartAsync(OpenFileLimit, "--keep-alive-timeout", "1");
        var silent = await OpenSilentSocketsAsync(server.Port, SilentSockets);
        try
        {
            await Until(() => ClosedByServer(silent) == SilentSockets, "the server closed every silent socket", server);

            await using var client = await DurableObjectClient.ConnectAsync(server.Address);
            var counter = client.GetNamespace<CounterStub>("COUNTERS").GetByName(Guid.NewGuid().ToString());
            Assert.Equal(5, await counter.Increment(5));
            Assert.False(server.HasExited, server.DescribeExit());
        }
        finally
        {
            Close(silent);
        }
    }

    [Fact]
    public async Task WithKestrelsConnectionLimitsRemovedTheServerStillHoldsNoMoreSocketsThanItsOpenFilesAllow()
    {
        await using var server = await ServerProcess.StartAsync(OpenFileLimit, "--no-connection-limits");
        await using var client = await DurableObjectClient.ConnectAsync(server.Address);
        var counter = client.GetNamespace<CounterStub>("COUNTERS").GetByName(Guid.NewGuid().ToString());
        Assert.Equal(1, await counter.Increment());

        // The sockets past the bound wait in the listen backlog, unaccepted: their connects succeed.
        var silent = await OpenSilentSocketsAsync(server.Port, SilentSockets);
        try
        {
            await Until(() => server.OpenFiles() > OpenFileLimit / 2, "the server accepted sockets up to its bound", server);
            for (var i = 2; i <= 100; i++)
            {
                Assert.Equal(i, await counter.Increment());
                Assert.True(server.OpenFiles() < OpenFileLimit - 32, $"The server has {server.OpenFiles()} files open, near its limit of {OpenFileLimit}.");
            }
            Assert.False(server.HasExited, server.DescribeExit());
        }
        finally
        {
            Close(silent);
        }
    }

    [Fact]
    public void KestrelLimitsTheAppSetsBeforeOrAfterAddDurableObjectsWinOverItsDefaults()
    {
        var defaults = KestrelOptions(configureBefore: null, configureAfter: null);
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.Limits.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.Limits.Http2.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), defaults.Limits.Http2.KeepAlivePingTimeout);
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            Assert.NotNull(defaults.Limits.MaxConcurrentConnections);
            Assert.NotNull(defaults.Limits.MaxConcurrentUpgradedConnections);
        }

        var own = KestrelOptions(
            configureBefore: kestrel => kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(130),
            configureAfter: kestrel =>
            {
                kestrel.Limits.MaxConcurrentConnections = null;
                kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.MaxValue;
            });
        Assert.Equal(TimeSpan.FromSeconds(130), own.Limits.KeepAliveTimeout);
        Assert.Null(own.Limits.MaxConcurrentConnections);
        Assert.Equal(TimeSpan.MaxValue, own.Limits.Http2.KeepAlivePingDelay);
        // Our default of the limit the app left alone stays; its figure depends on the files open at the
        // moment, which other tests running meanwhile change.
        Assert.Equal(defaults.Limits.MaxConcurrentUpgradedConnections is null, own.Limits.MaxConcurrentUpgradedConnections is null);
    }

    private static KestrelServerOptions KestrelOptions(Action<KestrelServerOptions>? configureBefore, Action<KestrelServerOptions>? configureAfter)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (configureBefore is not null)
        {
            builder.WebHost.ConfigureKestrel(configureBefore);
        }
        builder.Services.AddDurableObjects(RunningServer.AddTestNamespaces);
        if (configureAfter is not null)
        {
            builder.WebHost.ConfigureKestrel(configureAfter);
        }
        using var app = builder.Build();
        return app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
    }

    private static async Task<List<Socket>> OpenSilentSocketsAsync(int port, int count)
    {
        var sockets = new List<Socket>(count);
        for (var i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            sockets.Add(socket);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(TimeSpan.FromSeconds(30));
        }
        return sockets;
    }

    /// <summary>
    /// How many of the sockets the server has closed: at their end, or reset. What the server sent before
    /// closing (a GOAWAY after the keep-alive timeout) is read and dropped on the way.
    /// </summary>
    private static int ClosedByServer(List<Socket> sockets)
    {
        var closed = 0;
        var buffer = new byte[256];
        foreach (var socket in sockets)
        {
            try
            {
                while (socket.Poll(0, SelectMode.SelectRead))
                {
                    if (socket.Available == 0)
                    {
                        closed++;
                        break;
                    }
                    socket.Receive(buffer);
                }
            }
            catch (SocketException)
            {
                closed++;
            }
        }
        return closed;
    }

    private static void Close(List<Socket> sockets)
    {
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }

    private static async Task Until(Func<bool> condition, string what, ServerProcess server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.False(server.HasExited, $"The server died waiting until {what}: {server.DescribeExit()}");
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
            await Task.Delay(20);
        }
    }
}
