using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace SourceGenDO.EndToEnd.Tests.WebSockets;

/// <summary>HTTP routes into objects (SPEC.md section 4): ordinary HTTP clients reach an object's Fetch.</summary>
public sealed class RouteTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly HttpClient Http = new() { Timeout = SocketClient.Patience };

    private RunningServer Server => fixture.Server;

    private DurableObjectNamespace<SocketRoomStub> Rooms => fixture.Client.GetNamespace<SocketRoomStub>("SOCKET_ROOMS");

    private string Url(string path) => $"http://127.0.0.1:{Server.HttpAddress.Port}{path}";

    [Fact]
    public async Task ARouteByNameHandsMethodUrlHeadersAndBodyToTheNamedObjectAndItsResponseBack()
    {
        var name = ServerFixture.UniqueName("room");
        var url = Url($"/rooms/{name}/echo/path?x=1&y=two");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent("the body", Encoding.UTF8, "text/x-test") };
        request.Headers.Add("X-Test", "header value");

        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("POST", Single(response, "X-Method"));
        Assert.Equal(url, Single(response, "X-Url"));
        Assert.Equal("header value", Single(response, "X-Echo"));
        Assert.Equal("text/x-test", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("the body", await response.Content.ReadAsStringAsync());
        // The named object, the one a stub of that name reaches.
        Assert.Equal(await Rooms.GetByName(name).Instance(), int.Parse(Single(response, "X-Instance")));
    }

    [Fact]
    public async Task ARouteByIdReachesTheObjectOfThatId()
    {
        var name = ServerFixture.UniqueName("room");
        var id = Rooms.IdFromName(name);

        using var response = await Http.GetAsync(Url($"/ids/{id}/anything"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET", Single(response, "X-Method"));
        Assert.Equal(await Rooms.GetByName(name).Instance(), int.Parse(Single(response, "X-Instance")));
    }

    [Fact]
    public async Task AnInvalidOrForeignIdIsA400WithAClearBody()
    {
        using var invalid = await Http.GetAsync(Url("/ids/not-an-id/x"));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("64 hex digits", await invalid.Content.ReadAsStringAsync());

        var foreign = fixture.Client.GetNamespace<CounterStub>("COUNTERS").IdFromName("a counter");
        using var forged = await Http.GetAsync(Url($"/ids/{foreign}/x"));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("not valid for this namespace", await forged.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnExceptionInFetchIsA500WithAShortBodyAndTheObjectGoesOnServing()
    {
        var name = ServerFixture.UniqueName("room");

        using var failed = await Http.GetAsync(Url($"/rooms/{name}/throw"));

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var body = await failed.Content.ReadAsStringAsync();
        Assert.Contains("InvalidOperationException", body);
        Assert.DoesNotContain("asked to throw", body);
        using var next = await Http.GetAsync(Url($"/rooms/{name}/fine"));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task ALargeBodyStreamsThroughBothWays()
    {
        var body = new byte[8 * 1024 * 1024];
        new Random(11).NextBytes(body);
        using var content = new StreamContent(new MemoryStream(body));

        using var response = await Http.PostAsync(Url($"/rooms/{ServerFixture.UniqueName("room")}/big"), content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task MappingARouteToAnUnknownNamespaceOrWithoutANameOrIdFailsClearly()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddDurableObjects(options => options.AddNamespace<SocketRoom>("ROOMS").UseInMemoryStorage());
        await using var app = builder.Build();

        var unknown = Assert.Throws<InvalidOperationException>(() => app.MapDurableObjectRoute<SocketRoom>("/r/{name}", "NO_SUCH"));
        Assert.Contains("NO_SUCH", unknown.Message);
        var unhosted = Assert.Throws<InvalidOperationException>(() => app.MapDurableObjectRoute<Counter>("/c/{name}"));
        Assert.Contains("No namespace hosts", unhosted.Message);
        var nameless = Assert.Throws<ArgumentException>(() => app.MapDurableObjectRoute<SocketRoom>("/r/{room}"));
        Assert.Contains("{name}", nameless.Message);
    }

    private static string Single(HttpResponseMessage response, string header) => Assert.Single(response.Headers.GetValues(header));
}
