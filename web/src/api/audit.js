// The audit log (api/audit/).
import {download, getJSON} from "./http.js";

function filters({user, action, since, until}) {
  return {user: user || null, action: action || null, since: since || null, until: until || null};
}

/** GET /audit: one page of entries (newest first, or oldest with order "oldest"), filtered by actor, action (auth.*
 *  for a family) and time [since, until); {entries, count, offset, total}. */
export function entries({user, action, since, until, limit = 1000, offset = 0, order = "newest"}) {
  return getJSON("/audit", {...filters({user, action, since, until}), limit, offset, order});
}

/** GET /audit?format=csv: {name, blob} of the same entries as a CSV file. */
export function exportCsv({user, action, since, until, limit = 100000}) {
  return download("/audit", {query: {...filters({user, action, since, until}), limit, format: "csv"},
                             accept: "text/csv", fallback: "carbonflow-audit.csv"});
}
