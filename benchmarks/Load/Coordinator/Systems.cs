using System.Net;
using System.Net.Sockets;

namespace SourceGenDO.Load.Coordinator;

/// <summary>How to start the server and client processes of each system under comparison.</summary>
internal sealed class Systems(string loadDll, string orleansDll)
{
    public const string SourceGenDO = "sourcegendo";
    public const string Raw = "raw";
    public const string RawPacked = "raw-packed";
    public const string Orleans = "orleans";
    public const string Kestrel = "kestrel";

    public static readonly string[] Compared = [SourceGenDO, Raw, RawPacked, Orleans];

    public ChildProcess StartServer(string system, Ports ports) => system switch
    {
        SourceGenDO => ChildProcess.Start(loadDll, "server", "--system", SourceGenDO, "--port", ports.Main),
        Raw or RawPacked or Kestrel => ChildProcess.Start(loadDll, "server", "--system", Raw, "--port", ports.Main),
        Orleans => ChildProcess.Start(orleansDll, "server", "--port", ports.Main, "--silo-port", ports.Silo),
        _ => throw new ArgumentException($"Unknown system \"{system}\"."),
    };

    public ChildProcess StartClient(string system, Ports ports, string scenario, params string[] extra) => system == Orleans
        ? ChildProcess.Start(orleansDll, ["client", "--port", ports.Main, "--scenario", scenario, .. extra])
        : ChildProcess.Start(loadDll, ["client", "--system", system, "--port", ports.Main, "--scenario", scenario, .. extra]);

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
