// Carbon targets of the analysis service (api/analysis/): set, allocate, issue, track and assess; and the
// monitoring registry's regions and units the target page names its holders with.
import {download, getJSON, send} from "./http.js";
import * as monitoring from "./monitoring.js";

const BASE = "/analysis/targets";

/** GET /analysis/targets: a government user's region targets, an enterprise's issued unit targets. */
export async function listTargets(region = null) { return (await getJSON(BASE, {region})).targets; }

/** GET /analysis/targets/{id}: a target with the allocations the caller may see. */
export function target(id) { return getJSON(`${BASE}/${id}`); }

/** POST /analysis/targets: a draft target allocated by its rule (the preview). */
export function createTarget(body) { return send(BASE, {json: body}); }

/** POST /analysis/targets/{id}/issue: issue a draft to its holders. */
export function issueTarget(id) { return send(`${BASE}/${id}/issue`, {json: {}}); }

/** GET /analysis/targets/{id}/tracking: cumulative actual against the pro-rated path per month. */
export function tracking(id, through = null) { return getJSON(`${BASE}/${id}/tracking`, {through}); }

/** GET /analysis/targets/{id}/assessment: per-holder results for the year, ranked, beside the previous period. */
export function assessment(id) { return getJSON(`${BASE}/${id}/assessment`); }

/** GET /analysis/targets/{id}/assessment/export: {name, blob} of the result table as CSV or XLSX. */
export function exportAssessment(id, format) {
  return download(`${BASE}/${id}/assessment/export`, {query: {format}, accept: "*/*",
                                                      fallback: `target-${id}-assessment.${format}`});
}

/** The region tree (monitoring's client). */
export {regions} from "./monitoring.js";

/** The units the caller may see (names for unit holders). */
export async function units() { return (await monitoring.units()).units; }

/** GET /analysis/reduction-potential/{enterprise}: per process, t CO2 to the benchmark and to the limit. */
export function reductionPotential(enterprise, year) {
  return getJSON(`/analysis/reduction-potential/${encodeURIComponent(enterprise)}`, {year});
}
