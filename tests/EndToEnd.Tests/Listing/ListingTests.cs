using System.Net;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SourceGenDO.Server;
using SourceGenDO.Server.Execution;
using SourceGenDO.Wire;

namespace SourceGenDO.EndToEnd.Tests.Listing;

/// <summary>
/// The listing (SPEC.md section 6) over real loopback sockets, against each storage backend: the HTTP
/// JSON API in Cloudflare's envelope, keyset paging that stays right while objects come and go, names and
/// hasStoredData, every invalid value's error, and the client's methods, which must agree with the API.
/// </summary>
public abstract class ListingTests
{
    /// <summary>Chooses the backend of the servers the tests start.</summary>
    protected abstract void UseBackend(DurableObjectsOptions options);

    /// <summary>A server on the backend, a client connected to it, and its listing API.</summary>
    private async Task<Session> StartAsync(TimeProvider? time = null)
    {
        var server = await RunningServer.StartAsync(options =>
        {
            UseBackend(options);
            options.IdleTimeout = TimeSpan.FromSeconds(10);
        }, time: time);
        return new Session(server, await server.ConnectAsync(), new ListingApi(server));
    }

    private sealed record Session(RunningServer Server, DurableObjectClient Client, ListingApi Api) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Api.Dispose();
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    [Fact]
    public async Task PagingThrough2500ObjectsWithLimit1000ReturnsEachExactlyOnceInIdOrder()
    {
        await using var session = await StartAsync();
        var (server, client, api) = session;
        var counters = client.GetNamespace<CounterStub>("COUNTERS");
        var written = Enumerable.Range(0, 2500).Select(i => i % 2 == 0 ? counters.IdFromName($"counter-{i}") : counters.NewUniqueId()).ToList();
        await api.WriteAsync("COUNTERS", written);
        var other = client.GetNamespace<SecondCounterStub>("OTHER_COUNTERS");
        await api.WriteAsync("OTHER_COUNTERS", [other.NewUniqueId(), other.IdFromName("elsewhere")]);

        var pages = await api.PagesAsync("COUNTERS", limit: 1000);

        Assert.Equal([1000, 1000, 500], pages.Select(page => page.GetProperty("result_info").GetProperty("count").GetInt32()));
        Assert.Equal("", pages[^1].GetProperty("result_info").GetProperty("cursor").GetString());
        var listed = ListingApi.Objects(pages);
        Assert.Equal(written.Select(id => id.ToString()).Order(StringComparer.Ordinal), listed.Select(o => o.Id));
        Assert.All(listed, o => Assert.True(o.HasStoredData));
        var names = written.ToDictionary(id => id.ToString(), id => id.Name);
        Assert.All(listed, o => Assert.Equal(names[o.Id], o.Name));

        // The default limit is 1,000 too; the client's sequence is the same listing.
        Assert.Equal(listed.Take(1000), ListingApi.Objects([(await api.GetAsync("/api/durable_objects/namespaces/COUNTERS/objects")).Body]));
        var fromClient = await counters.ListObjectsAsync(pageSize: 1000).ToListAsync();
        Assert.Equal(listed, fromClient.Select(info => (info.Id.ToString(), info.HasStoredData, info.Name)));
        Assert.Equal(listed, (await client.ListObjectsAsync("COUNTERS", pageSize: 10_000).ToListAsync()).Select(info => (info.Id.ToString(), info.HasStoredData, info.Name)));
    }

    [Fact]
    public async Task WhileObjectsAreCreatedAndDeletedEveryObjectPresentThroughoutAppearsExactlyOnce()
    {
        await using var session = await StartAsync();
        var (server, client, api) = session;
        var stores = client.GetNamespace<StoreStub>("STORES");
        var stable = Enumerable.Range(0, 1200).Select(_ => stores.NewUniqueId()).ToList();
        var doomed = new Queue<DurableObjectId>(Enumerable.Range(0, 1000).Select(_ => stores.NewUniqueId()));
        await api.WriteAsync("STORES", stable.Concat(doomed));

        // Real objects come and go through calls the whole time, beside the deletions and creations
        // between pages below.
        using var stop = new CancellationTokenSource();
        var churned = 0;
        var churn = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var store = stores.GetByName(ServerFixture.UniqueName("churn"));
                await store.Put("k", "v");
                if (Interlocked.Increment(ref churned) % 2 == 0)
                {
                    await store.DeleteAll();
                }
            }
        });
        var rounds = 0;
        async Task ChangeBetweenPages()
        {
            rounds++;
            var gone = Enumerable.Range(0, Math.Min(25, doomed.Count)).Select(_ => doomed.Dequeue()).ToList();
            await api.DeleteAllAsync("STORES", gone);
            await api.WriteAsync("STORES", Enumerable.Range(0, 25).Select(_ => stores.NewUniqueId()));
            await Eventually.True(() => Volatile.Read(ref churned) > rounds, "the calls went on between pages");
        }

        var overHttp = ListingApi.Objects(await api.PagesAsync("STORES", limit: 100, ChangeBetweenPages)).Select(o => o.Id).ToList();
        var overClient = new List<string>();
        await foreach (var info in stores.ListObjectsAsync(pageSize: 100))
        {
            overClient.Add(info.Id.ToString());
            if (overClient.Count % 100 == 0)
            {
                await ChangeBetweenPages();
            }
        }
        await stop.CancelAsync();
        await churn;

        Assert.True(rounds >= 20, $"only {rounds} rounds of changes ran");
        foreach (var listing in new[] { overHttp, overClient })
        {
            Assert.Equal(listing.Count, listing.Distinct().Count());
            Assert.Equal(listing.Order(StringComparer.Ordinal), listing);
            var seen = listing.ToHashSet();
            Assert.All(stable, id => Assert.Contains(id.ToString(), seen));
        }
    }

    [Fact]
    public async Task HasStoredDataAndNamesAreRightForNamedUnnamedAndAlarmOnlyObjects()
    {
        await using var session = await StartAsync();
        var (server, client, api) = session;
        var stores = client.GetNamespace<StoreStub>("STORES");
        var named = stores.GetByName("alice");
        var unique = stores.Get(stores.NewUniqueId());
        // The id of a name, reached without it: the server cannot know the name.
        var nameless = stores.Get(stores.IdFromString(stores.IdFromName("bob").ToString()));
        await named.Put("k", "alice's");
        await unique.Put("k", "unique's");
        await nameless.Put("k", "bob's");
        var alarms = client.GetNamespace<AlarmsStub>("ALARMS");
        await alarms.GetByName("wake-me").Set(DateTimeOffset.UtcNow.AddDays(1), failures: 0);

        var listed = ListingApi.Objects(await api.PagesAsync("STORES")).ToDictionary(o => o.Id);
        var alarmed = ListingApi.Objects(await api.PagesAsync("ALARMS"));

        Assert.Equal(3, listed.Count);
        Assert.Equal((named.Id.ToString(), true, "alice"), listed[named.Id.ToString()]);
        Assert.Equal((unique.Id.ToString(), true, (string?)null), listed[unique.Id.ToString()]);
        Assert.Equal((nameless.Id.ToString(), true, (string?)null), listed[nameless.Id.ToString()]);
        Assert.Equal([(alarms.IdFromName("wake-me").ToString(), false, "wake-me")], alarmed);
        // The name is left out of the JSON when unknown, as Cloudflare's objects have no name at all.
        var raw = (await api.GetAsync("/api/durable_objects/namespaces/STORES/objects")).Body.GetProperty("result").EnumerateArray()
            .Single(o => o.GetProperty("id").GetString() == unique.Id.ToString());
        Assert.False(raw.TryGetProperty("name", out _));

        // The client's ids carry the names and reach the objects.
        var infos = await stores.ListObjectsAsync().ToListAsync();
        var alice = infos.Single(info => info.Name == "alice");
        Assert.Equal(named.Id, alice.Id);
        Assert.Equal("alice", alice.Id.Name);
        Assert.Equal("alice's", await stores.Get(alice.Id).Get("k"));
        Assert.Equal(2, infos.Count(info => info.Name is null));
        var wake = Assert.Single(await alarms.ListObjectsAsync().ToListAsync());
        Assert.False(wake.HasStoredData);
        Assert.Equal("wake-me", wake.Name);
    }

    [Fact]
    public async Task AnObjectAppearsOnceItsWriteWasAcknowledgedAndIsGoneAfterDeleteAllAndEviction()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var session = await StartAsync(time);
        var (server, client, api) = session;
        var stores = client.GetNamespace<StoreStub>("STORES");
        var store = stores.GetByName("short-lived");
        Assert.Empty(ListingApi.Objects(await api.PagesAsync("STORES")));

        // Put is not awaited by the object; the output gate holds the call's result until it is durable.
        await store.Put("k", "v");
        Assert.Equal([(store.Id.ToString(), true, "short-lived")], ListingApi.Objects(await api.PagesAsync("STORES")));

        await store.DeleteAll();
        Assert.Empty(ListingApi.Objects(await api.PagesAsync("STORES")));
        Assert.True(server.App.Services.GetRequiredService<DurableObjectHost>().TryGetNamespace("STORES", out var ns));
        Assert.True(ns.IsLive(store.Id));
        time.Advance(TimeSpan.FromSeconds(11));
        await Eventually.True(() => !ns.IsLive(store.Id), "the idle instance was evicted");
        Assert.Empty(ListingApi.Objects(await api.PagesAsync("STORES")));
        Assert.Empty(await stores.ListObjectsAsync().ToListAsync());
    }

    [Fact]
    public async Task EveryInvalidPagingValueGetsItsErrorAndStatusOverHttpAndTheSameOverGrpc()
    {
        await using var session = await StartAsync();
        var (server, client, api) = session;
        var stores = client.GetNamespace<StoreStub>("STORES");
        var foreignCursor = Cursor(client.GetNamespace<CounterStub>("COUNTERS").NewUniqueId());
        const string Objects = "/api/durable_objects/namespaces/STORES/objects";
        const string Namespaces = "/api/durable_objects/namespaces";
        (string Path, HttpStatusCode Status, int Code, string Message)[] cases =
        [
            ($"{Objects}?limit=abc", HttpStatusCode.BadRequest, 10001, "Invalid value for limit: \"abc\". It must be an integer."),
            ($"{Objects}?limit=", HttpStatusCode.BadRequest, 10001, "Invalid value for limit: \"\". It must be an integer."),
            ($"{Objects}?limit=1.5", HttpStatusCode.BadRequest, 10001, "Invalid value for limit: \"1.5\". It must be an integer."),
            ($"{Objects}?limit=9", HttpStatusCode.BadRequest, 10001, "Invalid value for limit: \"9\". It must be an integer from 10 to 10000 (default 1000)."),
            ($"{Objects}?limit=-20", HttpStatusCode.BadRequest, 10001, "Invalid value for limit: \"-20\". It must be an integer from 10 to 10000 (default 1000)."),
            ($"{Objects}?limit=10001", HttpStatusCode.BadRequest, 10001, "Invalid value for limit: \"10001\". It must be an integer from 10 to 10000 (default 1000)."),
            ($"{Objects}?limit=99999999999999999999999", HttpStatusCode.BadRequest, 10001, "Invalid value for limit: \"99999999999999999999999\". It must be an integer from 10 to 10000 (default 1000)."),
            ($"{Objects}?limit=10&limit=20", HttpStatusCode.BadRequest, 10001, "Invalid value for limit: it is given 2 times. Give it once."),
            ($"{Objects}?cursor=not-a-cursor", HttpStatusCode.BadRequest, 10002, "Invalid cursor \"not-a-cursor\": it is not a cursor of the listing of namespace \"STORES\". Pass result_info.cursor of the previous page unchanged, or none for the first page."),
            ($"{Objects}?cursor={foreignCursor}", HttpStatusCode.BadRequest, 10002, $"Invalid cursor \"{foreignCursor}\": it is not a cursor of the listing of namespace \"STORES\"."),
            ($"{Objects}?cursor=a&cursor=b", HttpStatusCode.BadRequest, 10002, "Invalid value for cursor: it is given 2 times. Give it once."),
            ("/api/durable_objects/namespaces/NOPE/objects", HttpStatusCode.NotFound, 7003, "The server has no namespace with the id or name \"NOPE\"; GET /api/durable_objects/namespaces lists them."),
            ($"/api/durable_objects/namespaces/{new string('x', 300)}/objects", HttpStatusCode.NotFound, 7003, $"\"{new string('x', 128)}…\" (300 bytes)"),
            ($"{Namespaces}?page=0", HttpStatusCode.BadRequest, 10001, "Invalid value for page: \"0\". It must be an integer from 1 to 2147483647."),
            ($"{Namespaces}?page=two", HttpStatusCode.BadRequest, 10001, "Invalid value for page: \"two\". It must be an integer."),
            ($"{Namespaces}?per_page=0", HttpStatusCode.BadRequest, 10001, "Invalid value for per_page: \"0\". It must be an integer from 1 to 1000 (default 20)."),
            ($"{Namespaces}?per_page=1001", HttpStatusCode.BadRequest, 10001, "Invalid value for per_page: \"1001\". It must be an integer from 1 to 1000 (default 20)."),
            ("/api/durable_objects/elsewhere", HttpStatusCode.NotFound, 7000, "No route for that URI."),
            ("/api/durable_objects/namespaces/STORES", HttpStatusCode.NotFound, 7000, "No route for that URI."),
        ];
        foreach (var (path, status, code, message) in cases)
        {
            var (actualStatus, body) = await api.GetAsync(path);
            Assert.True(status == actualStatus, $"{path}: {actualStatus}");
            var error = body.GetProperty("errors")[0];
            Assert.Equal(code, error.GetProperty("code").GetInt32());
            Assert.Contains(message, error.GetProperty("message").GetString());
            Assert.False(body.TryGetProperty("result_info", out _));
        }
        var (postStatus, postBody) = await api.SendAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(server.HttpAddress, Objects)));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, postStatus);
        Assert.Equal(7001, postBody.GetProperty("errors")[0].GetProperty("code").GetInt32());

        // The gRPC listing service answers from the same code: the same messages, as statuses.
        async Task<RpcException> Refused<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request)
            where TRequest : class
            where TResponse : class =>
            await Assert.ThrowsAsync<RpcException>(async () => await client.Invoker.AsyncUnaryCall(method, null, new CallOptions(), request));
        var limit = await Refused(ListingRpc.ListObjects, new ListObjectsRequest { Namespace = "STORES", Limit = 9 });
        Assert.Equal((StatusCode.InvalidArgument, "Invalid value for limit: 9. It must be an integer from 10 to 10000 (default 1000)."), (limit.StatusCode, limit.Status.Detail));
        var cursor = await Refused(ListingRpc.ListObjects, new ListObjectsRequest { Namespace = "STORES", Cursor = foreignCursor });
        Assert.Equal(StatusCode.InvalidArgument, cursor.StatusCode);
        Assert.StartsWith($"Invalid cursor \"{foreignCursor}\"", cursor.Status.Detail);
        var unknown = await Refused(ListingRpc.ListObjects, new ListObjectsRequest { Namespace = "NOPE" });
        Assert.Equal((StatusCode.NotFound, "The server has no namespace with the id or name \"NOPE\"; GET /api/durable_objects/namespaces lists them."), (unknown.StatusCode, unknown.Status.Detail));
        var perPage = await Refused(ListingRpc.ListNamespaces, new ListNamespacesRequest { PerPage = 1001 });
        Assert.Equal((StatusCode.InvalidArgument, "Invalid value for per_page: 1001. It must be an integer from 1 to 1000 (default 20)."), (perPage.StatusCode, perPage.Status.Detail));
        // The client checks its page sizes before asking.
        Assert.Throws<ArgumentOutOfRangeException>(() => stores.ListObjectsAsync(pageSize: 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => client.ListNamespacesAsync(pageSize: 1001));
        Assert.Throws<ArgumentException>(() => client.ListObjectsAsync("NOPE"));
    }

    [Fact]
    public async Task NamespacesArePagedWithIdNameAndClassAndEitherIdOrNameNamesOne()
    {
        await using var session = await StartAsync();
        var (server, client, api) = session;
        var hosted = client.Namespaces.Order(StringComparer.Ordinal).ToList();

        var (status, first) = await api.GetAsync("/api/durable_objects/namespaces");
        var pages = new List<JsonElement>();
        for (var page = 1; ; page++)
        {
            var body = (await api.GetAsync($"/api/durable_objects/namespaces?page={page}&per_page=5")).Body;
            var info = body.GetProperty("result_info");
            Assert.Equal((page, 5, hosted.Count), (info.GetProperty("page").GetInt32(), info.GetProperty("per_page").GetInt32(), info.GetProperty("total_count").GetInt32()));
            Assert.Equal(body.GetProperty("result").GetArrayLength(), info.GetProperty("count").GetInt32());
            if (body.GetProperty("result").GetArrayLength() == 0)
            {
                break;
            }
            pages.Add(body);
        }
        var listed = pages.SelectMany(page => page.GetProperty("result").EnumerateArray())
            .Select(ns => (Id: ns.GetProperty("id").GetString()!, Name: ns.GetProperty("name").GetString()!, Class: ns.GetProperty("class").GetString()!))
            .ToList();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(20, first.GetProperty("result_info").GetProperty("per_page").GetInt32());
        Assert.Equal(Math.Min(20, hosted.Count), first.GetProperty("result").GetArrayLength());
        Assert.Equal((hosted.Count + 4) / 5, pages.Count);
        Assert.Equal(hosted, listed.Select(ns => ns.Name));
        Assert.Equal(typeof(Store).FullName, listed.Single(ns => ns.Name == "STORES").Class);
        Assert.All(listed, ns => Assert.Matches("^[0-9a-f]{32}$", ns.Id));
        Assert.Equal(listed.Count, listed.Select(ns => ns.Id).Distinct().Count());
        // The client lists the same, whatever its page size.
        var expected = listed.Select(ns => new DurableObjectNamespaceInfo(ns.Id, ns.Name, ns.Class)).ToList();
        Assert.Equal(expected, await client.ListNamespacesAsync().ToListAsync());
        Assert.Equal(expected, await client.ListNamespacesAsync(pageSize: 5).ToListAsync());
        Assert.Equal(expected, await client.ListNamespacesAsync(pageSize: 1).ToListAsync());

        // {namespace} is the id, as on Cloudflare, or the name.
        var stores = client.GetNamespace<StoreStub>("STORES");
        await stores.GetByName("by-id").Put("k", "v");
        var id = listed.Single(ns => ns.Name == "STORES").Id;
        var byId = ListingApi.Objects(await api.PagesAsync(id));
        Assert.Equal([(stores.IdFromName("by-id").ToString(), true, "by-id")], byId);
        Assert.Equal(byId, ListingApi.Objects(await api.PagesAsync("STORES")));
    }

    [Fact]
    public async Task ObjectCodeListsObjectsThroughTheNamespaceItWasGiven()
    {
        await using var session = await StartAsync();
        var (server, client, api) = session;
        var counters = client.GetNamespace<CounterStub>("COUNTERS");
        await api.WriteAsync("COUNTERS", Enumerable.Range(0, 25).Select(i => counters.IdFromName($"listed-{i}")));

        var fromObject = await client.GetNamespace<CallerStub>("CALLERS").GetByName("lister").ListCounters(pageSize: 10);

        Assert.Equal(25, fromObject.Count);
        Assert.Equal(ListingApi.Objects(await api.PagesAsync("COUNTERS")).Select(o => o.Id), fromObject);
    }

    [Fact]
    public async Task TheApiAnswersOnTheHttp2EndpointOfTheStubsToo()
    {
        await using var session = await StartAsync();
        var (server, _, api) = session;

        var (status, body) = await api.GetAsync("/api/durable_objects/namespaces?per_page=1000", http2: true);
        var (objectsStatus, _) = await api.GetAsync("/api/durable_objects/namespaces/STORES/objects", http2: true);
        var (errorStatus, _) = await api.GetAsync("/api/durable_objects/namespaces/STORES/objects?limit=1", http2: true);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(body.GetProperty("result").EnumerateArray(), ns => ns.GetProperty("name").GetString() == "STORES");
        Assert.Equal(HttpStatusCode.OK, objectsStatus);
        Assert.Equal(HttpStatusCode.BadRequest, errorStatus);
        // Written as Cloudflare writes it: quotes in messages as \", not \u0022.
        using var http = new HttpClient();
        using var raw = await http.GetAsync(new Uri(server.HttpAddress, "/api/durable_objects/namespaces/STORES/objects?limit=1"));
        Assert.Contains("""{"code":10001,"message":"Invalid value for limit: \"1\". It must be""", await raw.Content.ReadAsStringAsync());
    }

    /// <summary>The cursor that continues after <paramref name="id"/>, made as the server makes it.</summary>
    private static string Cursor(DurableObjectId id) =>
        System.Buffers.Text.Base64Url.EncodeToString([1, .. Convert.FromHexString(id.ToString())]);
}

public sealed class SqliteListingTests : ListingTests
{
    protected override void UseBackend(DurableObjectsOptions options)
    {
        // The default: SQLite in the server's own data directory.
    }
}

public sealed class InMemoryListingTests : ListingTests
{
    protected override void UseBackend(DurableObjectsOptions options) => options.UseInMemoryStorage();
}
