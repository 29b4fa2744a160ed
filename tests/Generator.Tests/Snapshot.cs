using System.Runtime.CompilerServices;
using System.Text;

namespace SourceGenDO.Generator.Tests;

/// <summary>
/// Compares generated files with committed snapshots: Snapshots/&lt;Test&gt;#&lt;hint&gt;.verified.cs.
/// A mismatch writes &lt;...&gt;.received.cs next to it and fails with a diff; running with
/// SOURCEGENDO_ACCEPT_SNAPSHOTS=1 accepts the new output instead (and removes snapshots no longer generated).
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "SOURCEGENDO_ACCEPT_SNAPSHOTS";

    public static void Verify(GeneratorOutcome outcome, [CallerMemberName] string test = "", [CallerFilePath] string callerFile = "")
    {
        Assert.NotEmpty(outcome.Sources);
        var directory = SnapshotDirectory(callerFile);
        var accept = Environment.GetEnvironmentVariable(AcceptVariable) == "1";
        var failures = new List<string>();
        var generated = new HashSet<string>(StringComparer.Ordinal);

        foreach (var source in outcome.Sources)
        {
            var stem = Path.Combine(directory, $"{test}#{Path.GetFileNameWithoutExtension(source.HintName)}");
            var verified = stem + ".verified.cs";
            var received = stem + ".received.cs";
            generated.Add(Path.GetFileName(verified));
            var actual = Normalize(source.SourceText.ToString());
            var expected = File.Exists(verified) ? Normalize(File.ReadAllText(verified)) : null;
            if (expected == actual || accept)
            {
                if (expected != actual)
                {
                    File.WriteAllText(verified, actual, new UTF8Encoding(false));
                }
                File.Delete(received);
                continue;
            }
            File.WriteAllText(received, actual, new UTF8Encoding(false));
            failures.Add(expected is null
                ? $"No snapshot yet for {Path.GetFileName(verified)}; the output is in {received}."
                : $"{Path.GetFileName(verified)} differs from the output ({received}):\n{Diff(expected, actual)}");
        }

        foreach (var stale in Directory.EnumerateFiles(directory, test + "#*.verified.cs"))
        {
            if (generated.Contains(Path.GetFileName(stale)))
            {
                continue;
            }
            if (accept)
            {
                File.Delete(stale);
            }
            else
            {
                failures.Add($"{Path.GetFileName(stale)} is no longer generated.");
            }
        }

        if (failures.Count > 0)
        {
            Assert.Fail(string.Join("\n\n", failures) + $"\n\nIf the new output is right, run the tests with {AcceptVariable}=1 to accept it.");
        }
    }

    // Next to this source file; if the build mapped source paths away, found from the output folder up.
    private static string SnapshotDirectory(string callerFile)
    {
        var besideSource = Path.Combine(Path.GetDirectoryName(callerFile) ?? "", "Snapshots");
        if (Directory.Exists(besideSource))
        {
            return besideSource;
        }
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SourceGenDO.Generator.Tests.csproj")))
            {
                return Directory.CreateDirectory(Path.Combine(directory.FullName, "Snapshots")).FullName;
            }
        }
        return Directory.CreateDirectory(besideSource).FullName;
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    // The first differing line with a few lines of context on both sides: enough to see what changed.
    private static string Diff(string expected, string actual)
    {
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var first = 0;
        while (first < expectedLines.Length && first < actualLines.Length && expectedLines[first] == actualLines[first])
        {
            first++;
        }
        var builder = new StringBuilder();
        builder.AppendLine($"first difference at line {first + 1} (expected {expectedLines.Length} lines, got {actualLines.Length}):");
        var from = Math.Max(0, first - 3);
        for (var i = from; i < first; i++)
        {
            builder.AppendLine("  " + expectedLines[i]);
        }
        for (var i = first; i < Math.Min(expectedLines.Length, first + 6); i++)
        {
            builder.AppendLine("- " + expectedLines[i]);
        }
        for (var i = first; i < Math.Min(actualLines.Length, first + 6); i++)
        {
            builder.AppendLine("+ " + actualLines[i]);
        }
        return builder.ToString();
    }
}
