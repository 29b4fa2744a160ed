using System.Net;

namespace SourceGenDO.Browser.Tests;

/// <summary>The chat server's answers to plain HTTP: the page, and clear errors where a WebSocket is expected.</summary>
[Collection(ChatFixture.Collection)]
public sealed class ChatHttpTests(ChatFixture fixture)
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task ThePageIsServedAtTheRoot()
    {
        using var response = await Http.GetAsync(fixture.Server.Address);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>SourceGenDO chat</title>", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/rooms/lobby/websocket", HttpStatusCode.UpgradeRequired, "This address takes a WebSocket upgrade")]
    [InlineData("/rooms/lobby/other", HttpStatusCode.NotFound, "has one address: /rooms/lobby/websocket")]
    [InlineData("/rooms/not%20a%20room/websocket", HttpStatusCode.BadRequest, "A room name is 1 to 64 letters, digits")]
    public async Task ARoomAnswersPlainRequestsWithAClearStatus(string path, HttpStatusCode status, string text)
    {
        using var response = await Http.GetAsync(new Uri(fixture.Server.Address, path));
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(text, await response.Content.ReadAsStringAsync());
    }
}
