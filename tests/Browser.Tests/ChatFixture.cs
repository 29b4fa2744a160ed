using Microsoft.Playwright;

namespace SourceGenDO.Browser.Tests;

/// <summary>The tests that share one <see cref="ChatFixture"/>.</summary>
[CollectionDefinition(ChatFixture.Collection)]
public sealed class ChatCollection : ICollectionFixture<ChatFixture>;

/// <summary>
/// One headless chromium (Debian's, at <see cref="Prerequisites.ChromiumPath"/>) for the browser tests, driven
/// by Playwright, and one chat server for them to talk to. Without chromium no browser starts, and each
/// test fails (CI) or is skipped with the reason.
/// </summary>
public sealed class ChatFixture : IAsyncLifetime
{
    /// <summary>The name of the test collection that shares one fixture: its tests run one after another.</summary>
    public const string Collection = "chat";

    /// <summary>How long a room without events stays in memory: short, so that the tests see rooms hibernate.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(1);

    // The flags that keep chromium off the network (closed here) and out of first-run work.
    private static readonly string[] ChromiumArguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private ChatServer? _server;

    /// <summary>The browser; only for a test that called <see cref="Prerequisites.Require"/> with <see cref="Prerequisites.ChromiumMissing"/>.</summary>
    public IBrowser Browser => _browser ?? throw new InvalidOperationException(Prerequisites.ChromiumMissing ?? "The browser did not start.");

    /// <summary>The chat server.</summary>
    internal ChatServer Server => _server ?? throw new InvalidOperationException("The chat server did not start.");

    public async Task InitializeAsync()
    {
        _server = await ChatServer.StartAsync(IdleTimeout);
        if (Prerequisites.ChromiumMissing is not null)
        {
            return;
        }
        // Playwright's expectations poll the page; a loaded 2-core machine needs more than its 5 s default.
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Prerequisites.ChromiumPath,
            Headless = true,
            Args = ChromiumArguments,
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
