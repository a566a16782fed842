// The emission-factor library (api/accounting/routers/factors.py): its versions, their history, publishing a new one.
import {getJSON, send} from "./http.js";

/** GET /factors/history: every version (source, added, publisher, replaced by) and the factor.* audit entries. */
export function history({key, series, limit} = {}) { return getJSON("/factors/history", {key, series, limit}); }

/** POST /factors: publish a factor row (a new version of its key when the key, scope and period have one). */
export function publish(row) { return send("/factors", {json: row}); }
