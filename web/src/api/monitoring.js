// Government monitoring (api/monitoring/): regions, industries, emission units, views, anomaly reminders, public
// institutions, international comparison and map boundaries. Names come in the app's language (`lang`).
import {lang} from "../i18n.js";
import {getJSON, send} from "./http.js";

const L = () => ({lang: lang() === "zh-CN" ? "zh-CN" : "en"});

/** GET /monitoring/regions: the region tree, each with display_name and in_scope. */
export async function regions() { return (await getJSON("/monitoring/regions", L())).regions; }

/** GET /monitoring/industries: GB/T 4754 classes with display_name and the high-energy flag. */
export async function industries() { return (await getJSON("/monitoring/industries", L())).industries; }

/** GET /monitoring/view: a region by year (or month) with rows by sub-region, industry or unit. */
export function view({region, year, month = null, by = "region", industry = null}) {
  return getJSON("/monitoring/view", {region, year, month, by, industry, ...L()});
}

/** GET /monitoring/units: the unit list (名单) the caller may see; {units, synthetic}. */
export function units({region = null, industry = null, kind = null, limit = 10000} = {}) {
  return getJSON("/monitoring/units", {region, industry, kind, limit, ...L()});
}

/** GET /monitoring/units/{id}: a unit's archive for a year. */
export function unit(unitId, {year}) { return getJSON(`/monitoring/units/${unitId}`, {year, ...L()}); }

/** GET /monitoring/anomalies: reminders per region or unit in a state (null: all); {anomalies, synthetic}. */
export function anomalies({region = null, unit_id = null, state = "open", limit = 5000} = {}) {
  return getJSON("/monitoring/anomalies", {region, unit_id, state: state || null, limit});
}

/** POST /monitoring/anomalies/scan: run the anomaly rules on a region up to a month (YYYY-MM); {found, new}. */
export function scan({region, through}) {
  return send(`/monitoring/anomalies/scan?${new URLSearchParams({region, through})}`);
}

/** POST /monitoring/anomalies/{id}/dismiss|confirm with a comment (audited). */
export function decide(anomalyId, decision, {comment}) {
  return send(`/monitoring/anomalies/${anomalyId}/${decision}`, {json: {comment}});
}

/** GET /monitoring/institutions: public institutions in scope with their reductions. */
export function institutions({year, region = null}) { return getJSON("/monitoring/institutions", {year, region, ...L()}); }

/** GET /monitoring/public/institutions: the published institutions' reductions (no login needed). */
export function publicInstitutions({year}) { return getJSON("/monitoring/public/institutions", {year, ...L()}); }

/** GET /monitoring/world: countries' annual CO2, shares of the world and the top emitters. */
export function world({countries, start, end, top = 10}) {
  return getJSON("/monitoring/world", {countries: countries.join(","), start, end, top});
}

/** GET /monitoring/boundaries/{region}: GeoJSON of the region's sub-regions (schematic: true for the demo). */
export function boundaries(region) { return getJSON(`/monitoring/boundaries/${region}`); }

/** GET /monitoring/sync-sources: the intermediate-database sources with their state (administrators). */
export async function syncSources() { return (await getJSON("/monitoring/sync-sources")).sources; }

/** POST /monitoring/sync-sources: a new source {name, dialect, url_env, query, interval_s, enabled, take_valid}. */
export function createSyncSource(fields) { return send("/monitoring/sync-sources", {json: fields}); }

/** PATCH /monitoring/sync-sources/{name}: change its query, url_env, interval_s, enabled or take_valid (audited). */
export function changeSyncSource(name, changes) {
  return send(`/monitoring/sync-sources/${encodeURIComponent(name)}`, {method: "PATCH", json: changes});
}

/** POST /monitoring/sync-sources/{name}/run: run it now; {rows, stored, unchanged, refused, watermark, error, errors}. */
export function runSyncSource(name) { return send(`/monitoring/sync-sources/${encodeURIComponent(name)}/run`); }

/** POST /monitoring/sync-sources/{name}/watermark: where the next run reads from (null: the start), with a reason. */
export function resetSyncWatermark(name, {watermark, reason}) {
  return send(`/monitoring/sync-sources/${encodeURIComponent(name)}/watermark`, {json: {watermark, reason}});
}
