using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SourceGenDO.EndToEnd.Tests.Security;

/// <summary>Self-signed certificates made in the test: a server's for 127.0.0.1 and localhost, and clients'.</summary>
internal static class TestCertificates
{
    public static X509Certificate2 Server() => Create("CN=sgdo-test-server", "1.3.6.1.5.5.7.3.1", san =>
    {
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
    });

    public static X509Certificate2 Client(string name) => Create("CN=" + name, "1.3.6.1.5.5.7.3.2", null);

    private static X509Certificate2 Create(string subject, string usage, Action<SubjectAlternativeNameBuilder>? names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], critical: false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: false));
        if (names is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            names(san);
            request.CertificateExtensions.Add(san.Build());
        }
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Through PKCS#12, so that the private key is one TLS can use on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
