using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SourceGenDO.Browser.Tests;

/// <summary>The chat page in a real browser (headless chromium), against the chat sample's server.</summary>
[Collection(ChatFixture.Collection)]
public sealed class ChatPageTests(ChatFixture fixture) : IAsyncLifetime
{
    private readonly List<string> _pageErrors = [];
    private IBrowserContext? _alice;
    private IBrowserContext? _bob;

    [ChromiumFact]
    public Task TheServerServesThePageWithItsJoinForm() => WithServerOutput(async () =>
    {
        var page = await Open(_alice!, "");
        await Expect(page).ToHaveTitleAsync("SourceGenDO chat");
        await Expect(page.Locator("#join")).ToBeVisibleAsync();
        await Expect(page.Locator("#room")).ToHaveValueAsync("lobby");
        await Expect(page.Locator("#chat")).ToBeHiddenAsync();
    });

    [ChromiumFact]
    public Task TwoPagesOnOneRoomSeeEachOthersMessagesAndAReloadShowsTheHistory() => WithServerOutput(async () =>
    {
        var room = UniqueRoom();
        var alice = await Join(_alice!, room, "alice");
        var bob = await Join(_bob!, room, "bob");
        await Expect(alice.Locator("#messages li.system")).ToHaveTextAsync(["bob joined"]);

        await Say(alice, "hello from alice");
        await Expect(Messages(bob)).ToHaveTextAsync(["alice: hello from alice"]);
        await Say(bob, "hi alice");
        await Expect(Messages(alice)).ToHaveTextAsync(["alice: hello from alice", "bob: hi alice"]);

        await bob.ReloadAsync();
        // The page keeps the room in its address and the name in the tab's session storage.
        await Expect(bob.Locator("#room")).ToHaveValueAsync(room);
        await Expect(bob.Locator("#name")).ToHaveValueAsync("bob");
        await Expect(Messages(bob)).ToHaveCountAsync(0);
        await bob.ClickAsync("#join-button");
        await Expect(bob.Locator("body")).ToHaveAttributeAsync("data-ready", "true");
        await Expect(Messages(bob)).ToHaveTextAsync(["alice: hello from alice", "bob: hi alice"]);
        await Expect(alice.Locator("#messages li.system")).ToHaveTextAsync(["bob joined", "bob left", "bob joined"]);
    });

    [ChromiumFact]
    public Task AHibernatedRoomStillKnowsWhoIsWho() => WithServerOutput(async () =>
    {
        var room = UniqueRoom();
        var alice = await Join(_alice!, room, "alice");
        var bob = await Join(_bob!, room, "bob");
        var instances = fixture.Server.InstancesOf(room);

        // Idle past the room's idle timeout, then speak: the message wakes a new instance, which knows the
        // sender only from the socket's attachment. On a loaded machine eviction may come late, so try again.
        for (var attempt = 1; fixture.Server.InstancesOf(room) == instances; attempt++)
        {
            Assert.True(attempt <= 10, $"Room {room} was not constructed again after {attempt - 1} idle periods of {ChatFixture.IdleTimeout * 3}: it did not hibernate.");
            await Task.Delay(ChatFixture.IdleTimeout * 3);
            await Say(alice, $"after a nap {attempt}");
            await Expect(Messages(bob).Last).ToHaveTextAsync($"alice: after a nap {attempt}");
        }
        await Say(bob, "and bob too");
        await Expect(Messages(alice).Last).ToHaveTextAsync("bob: and bob too");
        await Expect(bob.Locator("body")).ToHaveAttributeAsync("data-ready", "true");
    });

    public async Task InitializeAsync()
    {
        if (Prerequisites.ChromiumMissing is null)
        {
            // One context per user: separate session storage, as two browsers would have.
            _alice = await fixture.Browser.NewContextAsync();
            _bob = await fixture.Browser.NewContextAsync();
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var context in new[] { _alice, _bob })
        {
            if (context is not null)
            {
                await context.DisposeAsync();
            }
        }
    }

    private static string UniqueRoom() => "room-" + Guid.NewGuid().ToString("n")[..12];

    private static ILocator Messages(IPage page) => page.Locator("#messages li.message");

    private async Task<IPage> Open(IBrowserContext context, string room)
    {
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => _pageErrors.Add(error);
        var response = await page.GotoAsync(new Uri(fixture.Server.Address, room.Length > 0 ? "/#" + room : "/").ToString());
        Assert.Equal(200, response?.Status);
        return page;
    }

    private async Task<IPage> Join(IBrowserContext context, string room, string name)
    {
        var page = await Open(context, room);
        await Expect(page.Locator("#room")).ToHaveValueAsync(room);
        await page.FillAsync("#name", name);
        await page.ClickAsync("#join-button");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-ready", "true");
        return page;
    }

    private static async Task Say(IPage page, string text)
    {
        await page.FillAsync("#text", text);
        await page.PressAsync("#text", "Enter");
        await Expect(page.Locator("#text")).ToHaveValueAsync("");
    }

    // Every test needs chromium, and ends with no script error on any page; a failure carries the server's output.
    private async Task WithServerOutput(Func<Task> test)
    {
        Prerequisites.Require(Prerequisites.ChromiumMissing);
        try
        {
            await test();
            Assert.Empty(_pageErrors);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{e}{Environment.NewLine}{fixture.Server.Describe()}");
        }
    }
}
