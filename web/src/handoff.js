// Single sign-on comes back as /#sso=<handoff>. This module is imported before the router, which rewrites the
// address as soon as it is created: the code is taken and the address cleared first.

export const handoff = location.hash.startsWith("#sso=") ? location.hash.slice("#sso=".length) : null;
if (handoff !== null) history.replaceState(null, "", location.pathname + location.search);
