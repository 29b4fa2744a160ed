using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace SourceGenDO.Server.Security;

/// <summary>
/// Adds the access tokens named in configuration (<c>DurableObjects:AccessToken</c>, <c>DurableObjects:AccessTokens</c>)
/// to those set in code, and tells the options monitor when the configuration changed, so that tokens can be
/// rotated without a restart. Read by hand rather than through the reflection-based binder, which Native AOT
/// would trim.
/// </summary>
internal sealed class AccessConfiguration(IServiceProvider services) : IConfigureOptions<DurableObjectsOptions>, IOptionsChangeTokenSource<DurableObjectsOptions>
{
    public const string TokenKey = DurableObjectsAccessOptions.ConfigurationSection + ":AccessToken";
    public const string TokensKey = DurableObjectsAccessOptions.ConfigurationSection + ":AccessTokens";

    private readonly IConfiguration? _configuration = services.GetService<IConfiguration>();

    public string? Name => Options.DefaultName;

    public IChangeToken GetChangeToken() => _configuration?.GetReloadToken() ?? NeverChanges;

    private static readonly IChangeToken NeverChanges = new CancellationChangeToken(CancellationToken.None);

    public void Configure(DurableObjectsOptions options)
    {
        if (_configuration is null)
        {
            return;
        }
        var access = options.Access;
        if (_configuration[TokenKey] is { Length: > 0 } single)
        {
            Add(access, TokenKey, single, []);
        }
        foreach (var entry in _configuration.GetSection(TokensKey).GetChildren())
        {
            var key = entry.Path;
            if (entry.Value is { } plain)
            {
                // An emptied entry (a value removed by hand) grants nothing.
                if (plain.Length > 0)
                {
                    Add(access, key, plain, []);
                }
                continue;
            }
            var token = entry["Token"];
            if (string.IsNullOrEmpty(token))
            {
                access.ConfigurationProblems.Add($"The configuration entry {key} has no Token.");
                continue;
            }
            var namespaces = entry.GetSection("Namespaces");
            string[] granted = namespaces.Value is { } list
                ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                : [.. namespaces.GetChildren().Select(child => child.Value?.Trim() ?? "").Where(name => name.Length > 0)];
            Add(access, key + ":Token", token, granted);
        }
    }

    private static void Add(DurableObjectsAccessOptions access, string key, string token, string[] namespaces)
    {
        if (DurableObjectsAccessToken.Problem(token) is { } problem)
        {
            access.ConfigurationProblems.Add($"The configuration entry {key} is not a valid access token: {problem}");
            return;
        }
        access.Tokens.Add(new DurableObjectsAccessToken(token, namespaces));
    }
}
