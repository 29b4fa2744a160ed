namespace ChatSample;

/// <summary>Serves the chat's one web page (ChatPage.html, embedded in the assembly: no files to deploy, nothing from outside the machine).</summary>
internal static class ChatPage
{
    /// <summary>Maps GET <paramref name="pattern"/> to the page.</summary>
    public static IEndpointConventionBuilder MapChatPage(this IEndpointRouteBuilder endpoints, string pattern)
    {
        using var stream = typeof(ChatPage).Assembly.GetManifestResourceStream("ChatPage.html")
            ?? throw new InvalidOperationException("ChatPage.html is not embedded in the assembly.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var page = buffer.ToArray();
        // A RequestDelegate, not a lambda with parameters: no reflection-built delegate (Native-AOT safe).
        return endpoints.MapGet(pattern, context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.ContentLength = page.Length;
            return context.Response.Body.WriteAsync(page).AsTask();
        });
    }
}
