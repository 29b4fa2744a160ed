using Microsoft.Extensions.Logging;

namespace SourceGenDO.Server.Hosting;

/// <summary>
/// A warning that a client can cause at will (a malformed frame, a missing token): logged at most once per
/// interval, with a count of those left out, so that no client can fill the log.
/// </summary>
internal sealed class ThrottledWarning(ILogger logger, TimeProvider time, TimeSpan interval, string template)
{
    private readonly Lock _lock = new();
    private long _lastLogged;
    private bool _loggedOnce;
    private int _suppressed;

    public void Log(string detail)
    {
        int suppressed;
        lock (_lock)
        {
            if (_loggedOnce && time.GetElapsedTime(_lastLogged) < interval)
            {
                _suppressed++;
                return;
            }
            _loggedOnce = true;
            _lastLogged = time.GetTimestamp();
            suppressed = _suppressed;
            _suppressed = 0;
        }
#pragma warning disable CA2254 // The template is a constant chosen by the caller, with one placeholder.
        if (suppressed == 0)
        {
            logger.LogWarning(template, detail);
        }
        else
        {
            logger.LogWarning(template + " ({Suppressed} more since the last such warning, not logged.)", detail, suppressed);
        }
#pragma warning restore CA2254
    }
}
