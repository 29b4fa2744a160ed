using System.Net;
using System.Net.Sockets;

namespace SourceGenDO.Load.Coordinator;

/// <summary>How to start the server and client processes of each system under comparison.</summary>
/// <param name="loadDll">This checkout's load benchmark.</param>
/// <param name="orleansDll">The Orleans roles.</param>
/// <param name="baseLoadDll">Another checkout's load benchmark (<c>run --compare-with</c>), whose SourceGenDO is <see cref="SourceGenDOBase"/>; null when none.</param>
internal sealed class Systems(string loadDll, string orleansDll, string? baseLoadDll = null)
{
    public const string SourceGenDO = "sourcegendo";
    public const string Raw = "raw";
    public const string RawPacked = "raw-packed";
    public const string Orleans = "orleans";
    public const string Kestrel = "kestrel";

    /// <summary>SourceGenDO as another checkout builds it: an A/B of two builds, interleaved in one run.</summary>
    public const string SourceGenDOBase = "sourcegendo-base";

    public static readonly string[] Compared = [SourceGenDO, Raw, RawPacked, Orleans];

    public ChildProcess StartServer(string system, Ports ports) => system switch
    {
        SourceGenDO => ChildProcess.Start(loadDll, "server", "--system", SourceGenDO, "--port", ports.Main),
        SourceGenDOBase => ChildProcess.Start(BaseLoadDll, "server", "--system", SourceGenDO, "--port", ports.Main),
        Raw or RawPacked or Kestrel => ChildProcess.Start(loadDll, "server", "--system", Raw, "--port", ports.Main),
        Orleans => ChildProcess.Start(orleansDll, "server", "--port", ports.Main, "--silo-port", ports.Silo),
        _ => throw new ArgumentException($"Unknown system \"{system}\"."),
    };

    public ChildProcess StartClient(string system, Ports ports, string scenario, params string[] extra) => system switch
    {
        Orleans => ChildProcess.Start(orleansDll, ["client", "--port", ports.Main, "--scenario", scenario, .. extra]),
        SourceGenDOBase => ChildProcess.Start(BaseLoadDll, ["client", "--system", SourceGenDO, "--port", ports.Main, "--scenario", scenario, .. extra]),
        _ => ChildProcess.Start(loadDll, ["client", "--system", system, "--port", ports.Main, "--scenario", scenario, .. extra]),
    };

    private string BaseLoadDll => baseLoadDll
        ?? throw new ArgumentException($"The system \"{SourceGenDOBase}\" is another checkout's build: name that checkout with --compare-with <directory>.");

    /// <summary>Two free loopback ports: the one clients use, and Orleans' silo-to-silo port.</summary>
    public sealed record Ports(string Main, string Silo)
    {
        public static Ports Free() => new(FreePort(), FreePort());

        private static string FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
