using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SourceGenDO.Server.Security;

/// <summary>
/// Refuses to start a server that listens beyond loopback without a credential: before anything starts it
/// builds the access rules (invalid settings fail the start), and once the server has bound its endpoints it
/// reads the addresses actually bound (<see cref="IServerAddressesFeature"/>), however they were configured
/// (<c>Listen</c> in code, <c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>, Kestrel's
/// configuration). Until this check has run, <see cref="AccessPolicy"/> answers only local connections of a
/// server without credentials, so nothing is served in between.
/// </summary>
internal sealed class ListenAddressCheck(IServiceProvider services) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Builds the rules: a token scoped to an unknown namespace, or an invalid one in configuration, fails here.
        services.GetRequiredService<AccessPolicy>();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is not null && Problem(services.GetRequiredService<AccessPolicy>().Rules, addresses) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
        return Task.CompletedTask;
    }

    /// <summary>Why the server must not run on <paramref name="addresses"/> under <paramref name="rules"/>, or null when it may.</summary>
    public static string? Problem(AccessRules rules, IEnumerable<string> addresses)
    {
        if (rules.HasTokens)
        {
            return null;
        }
        var exposed = addresses.Where(address => !IsLocal(address)).ToArray();
        if (exposed.Length == 0)
        {
            return null;
        }
        if (rules.Certificates is not null)
        {
            var cleartext = exposed.Where(address => !address.StartsWith("https:", StringComparison.OrdinalIgnoreCase)).ToArray();
            return cleartext.Length == 0 ? null :
                $"SourceGenDO will not serve {string.Join(", ", cleartext)}: the address is not loopback and has no TLS, so no client certificate "
                + "can be presented there, and no access token is configured. Serve it over https (Kestrel's UseHttps with ClientCertificateMode), "
                + "or add an access token (" + HowToSetToken + ").";
        }
        return $"SourceGenDO will not serve {string.Join(", ", exposed)} without an access token: the address is not loopback, so anyone who "
            + "reaches it could call every object. Add a token (" + HowToSetToken + "), or accept TLS client certificates "
            + "(options.Access.ClientCertificateValidation), or listen on loopback only (127.0.0.1, [::1] or localhost).";
    }

    /// <summary>How to set a token, named in every refusal to start.</summary>
    public const string HowToSetToken =
        "options.Access.AddToken(token) in AddDurableObjects, or the configuration key " + AccessConfiguration.TokenKey
        + " (environment variable DurableObjects__AccessToken); clients send it with DurableObjectClientOptions.AccessToken";

    /// <summary>True for an address only this machine reaches: a loopback IP, localhost, a Unix socket or a named pipe.</summary>
    public static bool IsLocal(string address)
    {
        BindingAddress binding;
        try
        {
            binding = BindingAddress.Parse(address);
        }
        catch (FormatException)
        {
            return false;
        }
        if (binding.IsUnixPipe || binding.IsNamedPipe)
        {
            return true;
        }
        var host = binding.Host.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IPAddress.TryParse(host, out var ip) && AccessPolicy.IsLocal(ip);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
