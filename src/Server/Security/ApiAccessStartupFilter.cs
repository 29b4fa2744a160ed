using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace SourceGenDO.Server.Security;

/// <summary>
/// Puts the guard of <see cref="AccessGate.ApiPrefix"/> first in the app's pipeline, so that every path under it
/// is refused without a valid credential, whichever endpoint (or none) would serve it.
/// </summary>
internal sealed class ApiAccessStartupFilter(AccessGate gate) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(following => context => AccessGate.IsApiPath(context.Request.Path) ? gate.GuardApiAsync(context, following) : following(context));
        next(app);
    };
}
