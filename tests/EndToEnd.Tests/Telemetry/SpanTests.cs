using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using static SourceGenDO.EndToEnd.Tests.Telemetry.TelemetryCapture;

namespace SourceGenDO.EndToEnd.Tests.Telemetry;

/// <summary>SourceGenDO's spans as OpenTelemetry exports them, over a real server on loopback.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class SpanTests
{
    private static bool Named(Activity span, string name) => Tag(span, "sourcegendo.object.name") as string == name;

    [Fact]
    public async Task ACallsClientAndServerSpansJoinAcrossTheWireWithItsTags()
    {
        await using var observed = await ObservedServer.StartAsync();
        var (capture, _, client) = observed;
        var name = ServerFixture.UniqueName("counter");
        var stub = client.GetNamespace<CounterStub>("COUNTERS").GetByName(name);

        // The caller's own span (started without any listener) is the parent of the call's.
        using var caller = new Activity("test caller").SetIdFormat(ActivityIdFormat.W3C).Start();
        caller.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        var call = stub.Increment(5);
        Assert.Same(caller, Activity.Current);
        Assert.Equal(5, await call);
        Assert.Same(caller, Activity.Current);

        var clientSpan = await capture.SpanAsync(span => span.Kind == ActivityKind.Client && Named(span, name), "of the client");
        var serverSpan = await capture.SpanAsync(span => span.Kind == ActivityKind.Server && Named(span, name), "of the server");
        Assert.Equal(caller.TraceId, clientSpan.TraceId);
        Assert.Equal(caller.SpanId, clientSpan.ParentSpanId);
        Assert.Equal(clientSpan.TraceId, serverSpan.TraceId);
        Assert.Equal(clientSpan.SpanId, serverSpan.ParentSpanId);
        Assert.True(serverSpan.HasRemoteParent);
        foreach (var span in new[] { clientSpan, serverSpan })
        {
            Assert.Equal("COUNTERS/Increment", span.DisplayName);
            Assert.Equal(SourceGenDOTelemetry.Name, span.Source.Name);
            Assert.Equal("sourcegendo", Tag(span, "rpc.system"));
            Assert.Equal("COUNTERS", Tag(span, "rpc.service"));
            Assert.Equal("Increment", Tag(span, "rpc.method"));
            Assert.Equal("COUNTERS", Tag(span, "sourcegendo.namespace"));
            Assert.Equal(stub.Id.ToString(), Tag(span, "sourcegendo.object.id"));
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
        }
    }

    [Fact]
    public async Task TracedCallsMakeSystemDiagnosticsRaiseNoErrors()
    {
        // Activity reports misuse (stopping one twice, making a stopped one current) by throwing and
        // catching an exception of its own: a tracing cost far above a span's, and a sign of a bug.
        var misuses = 0;
        void Count(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
        {
            if (e.Exception.StackTrace?.Contains("System.Diagnostics.Activity", StringComparison.Ordinal) == true)
            {
                Interlocked.Increment(ref misuses);
            }
        }
        await using var observed = await ObservedServer.StartAsync();
        var (capture, _, client) = observed;
        var chain = ServerFixture.UniqueName("chain");
        AppDomain.CurrentDomain.FirstChanceException += Count;
        try
        {
            var stub = client.GetNamespace<RelayStub>("RELAYS").GetByName($"{chain}/1");
            await Task.WhenAll(Enumerable.Range(0, 50).Select(i => stub.Pass(chain, 1, i)));
            using var response = await client.GetNamespace<FetcherStub>("FETCHERS").GetByName(chain).FetchAsync("http://do/log?x");
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }
        await capture.SpansAsync(span => (Tag(span, "sourcegendo.object.name") as string)?.StartsWith(chain, StringComparison.Ordinal) == true, 202, "of the calls");
        Assert.Equal(0, misuses);
    }

    [Fact]
    public async Task AThrowingCallMarksBothSpansAsErrorsWithTheExceptionType()
    {
        await using var observed = await ObservedServer.StartAsync();
        var (capture, _, client) = observed;
        var name = ServerFixture.UniqueName("thrower");
        var stub = client.GetNamespace<ThrowerStub>("THROWERS").GetByName(name);

        await Assert.ThrowsAsync<InvalidOperationException>(() => stub.ThrowInvalidOperation("it broke"));

        var clientSpan = await capture.SpanAsync(span => span.Kind == ActivityKind.Client && Named(span, name), "of the client");
        var serverSpan = await capture.SpanAsync(span => span.Kind == ActivityKind.Server && Named(span, name), "of the server");
        Assert.Equal(clientSpan.SpanId, serverSpan.ParentSpanId);
        foreach (var span in new[] { clientSpan, serverSpan })
        {
            Assert.Equal(ActivityStatusCode.Error, span.Status);
            Assert.Equal("it broke", span.StatusDescription);
            Assert.Equal("System.InvalidOperationException", Tag(span, "error.type"));
            Assert.Equal("app_exception", Tag(span, "sourcegendo.error.kind"));
        }
    }

    [Fact]
    public async Task CallsAnObjectMakesToObjectsJoinTheTraceOfTheCallInProgress()
    {
        await using var observed = await ObservedServer.StartAsync();
        var (capture, _, client) = observed;
        var chain = ServerFixture.UniqueName("chain");

        Assert.Equal(7, await client.GetNamespace<RelayStub>("RELAYS").GetByName($"{chain}/2").Pass(chain, 2, 7));

        // The test's call to chain/2, whose object calls chain/1, whose object calls chain/0: three
        // client spans and three server spans, one trace, each span the child of the one before.
        var spans = await capture.SpansAsync(span => (Tag(span, "sourcegendo.object.name") as string)?.StartsWith(chain, StringComparison.Ordinal) == true, 6, "of the chain");
        Assert.Equal(6, spans.Count);
        Activity? parent = null;
        for (var hop = 2; hop >= 0; hop--)
        {
            var clientSpan = Assert.Single(spans, span => span.Kind == ActivityKind.Client && Named(span, $"{chain}/{hop}"));
            var serverSpan = Assert.Single(spans, span => span.Kind == ActivityKind.Server && Named(span, $"{chain}/{hop}"));
            Assert.Equal(spans[0].TraceId, clientSpan.TraceId);
            Assert.Equal(parent?.SpanId ?? default, clientSpan.ParentSpanId);
            Assert.Equal(clientSpan.SpanId, serverSpan.ParentSpanId);
            Assert.Equal("RELAYS/Pass", serverSpan.DisplayName);
            parent = serverSpan;
        }
    }

    [Fact]
    public async Task AFetchThroughAStubHasJoinedSpansWithItsMethodPathAndStatus()
    {
        await using var observed = await ObservedServer.StartAsync();
        var (capture, _, client) = observed;
        var name = ServerFixture.UniqueName("fetcher");

        using var response = await client.GetNamespace<FetcherStub>("FETCHERS").GetByName(name).FetchAsync("http://do/log?first");
        Assert.Equal("first", await response.Content.ReadAsStringAsync());

        var clientSpan = await capture.SpanAsync(span => span.Kind == ActivityKind.Client && Named(span, name), "of the client");
        var serverSpan = await capture.SpanAsync(span => span.Kind == ActivityKind.Server && Named(span, name), "of the server");
        Assert.Equal(clientSpan.SpanId, serverSpan.ParentSpanId);
        foreach (var span in new[] { clientSpan, serverSpan })
        {
            Assert.Equal("FETCHERS/$fetch", span.DisplayName);
            Assert.Equal("GET", Tag(span, "http.request.method"));
            Assert.Equal("/log", Tag(span, "url.path"));
            Assert.Equal(200, Tag(span, "http.response.status_code"));
        }
    }

    [Fact]
    public async Task ARequestThroughARouteHasASpanAndAHandlerFailureMarksIt()
    {
        await using var observed = await ObservedServer.StartAsync();
        var (capture, server, _) = observed;
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        var room = ServerFixture.UniqueName("room");
        var failing = ServerFixture.UniqueName("room");

        using var ok = await http.PostAsync($"/rooms/{room}/hello", new StringContent("hi"));
        Assert.Equal(System.Net.HttpStatusCode.Created, ok.StatusCode);
        using var failed = await http.GetAsync($"/rooms/{failing}/throw");
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, failed.StatusCode);

        var span = await capture.SpanAsync(span => Named(span, room), "of the route's request");
        Assert.Equal("SOCKET_ROOMS/$fetch", span.DisplayName);
        // Nothing listens to ASP.NET Core here, so this span is the server's.
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("POST", Tag(span, "http.request.method"));
        Assert.Equal($"/rooms/{room}/hello", Tag(span, "url.path"));
        Assert.Equal(201, Tag(span, "http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);

        var failedSpan = await capture.SpanAsync(span => Named(span, failing), "of the failed request");
        Assert.Equal(ActivityStatusCode.Error, failedSpan.Status);
        Assert.Equal("System.InvalidOperationException", Tag(failedSpan, "error.type"));
    }

    [Fact]
    public async Task EveryRunOfAnAlarmHasASpanWithItsRetryCount()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        await using var observed = await ObservedServer.StartAsync(time: time);
        var (capture, _, client) = observed;
        var name = ServerFixture.UniqueName("alarm");
        var alarm = client.GetNamespace<AlarmsStub>("ALARMS").GetByName(name);

        await alarm.Set(time.GetUtcNow(), failures: 1);
        var first = await capture.SpanAsync(span => span.DisplayName == "ALARMS/$alarm" && Named(span, name), "of the first run");
        Assert.Equal(ActivityStatusCode.Error, first.Status);
        Assert.Equal("alarm handler failed on purpose", first.StatusDescription);
        Assert.Equal(0, Tag(first, "sourcegendo.alarm.retry_count"));
        Assert.Equal(default, first.ParentSpanId);

        // The retry comes about 2 s later on the server's clock.
        var runs = Array.Empty<Activity>();
        await Eventually.True(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            runs = [.. capture.Spans.Where(span => span.DisplayName == "ALARMS/$alarm" && Named(span, name))];
            return runs.Length == 2;
        }, "the retry ran");
        var retry = runs.Single(span => span != first);
        Assert.Equal(ActivityStatusCode.Unset, retry.Status);
        Assert.Equal(1, Tag(retry, "sourcegendo.alarm.retry_count"));
        Assert.Equal(ActivityKind.Internal, retry.Kind);
        Assert.NotEqual(first.TraceId, retry.TraceId);
    }
}
