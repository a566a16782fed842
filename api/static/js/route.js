// The hash route of the address (#/name?query) and its rewriting by the view that shows it.
//
// A view may still be waiting for an answer when the person picks another view: the address changes at once,
// the hashchange that stops the old view runs a task later. An answer landing in between must not put the old
// view's address back (the app would then route to the old view again and the click would be lost), so a view
// rewrites the address only while it still names that view.

/** [name, query] of a hash such as "#/series?device=x" (["", ""] for none). */
export function parseRoute(hash = location.hash) {
  const [name, query] = hash.replace(/^#\/?/, "").split("?");
  return [name || "", query || ""];
}

/** Replace the address with view `name`'s `query` (a string or URLSearchParams), without a history entry,
 *  if the address still shows that view; false (and the address left as it is) when it has moved on. */
export function replaceRoute(name, query) {
  if (parseRoute()[0] !== name) return false;
  const text = String(query);
  history.replaceState(null, "", text ? `#/${name}?${text}` : `#/${name}`);
  return true;
}
