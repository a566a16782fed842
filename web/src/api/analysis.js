// Analysis and planning (api/analysis/): decoupling, decomposition, Kaya, forecasts and scenarios.
import {download, getJSON, send} from "./http.js";

/** The region tree (code, name, name_en, level, parent_code, label), from monitoring's client. */
export {regions} from "./monitoring.js";

/** GET /analysis/decoupling: Tapio steps year by year for a region. */
export function decoupling({region, start, end}) { return getJSON("/analysis/decoupling", {region, start, end}); }

/** GET /analysis/lmdi: the region's CO2 change from `base` to `target` split into four effects. */
export function lmdi({region, base, target}) { return getJSON("/analysis/lmdi", {region, base, target}); }

/** GET /analysis/kaya: the region's Kaya factors year by year. */
export function kaya({region, start, end}) { return getJSON("/analysis/kaya", {region, start, end}); }

/** POST /analysis/forecast?region=: a forecast under a scenario, not saved. */
export function forecast(region, baseYear, spec) {
  return send(`/analysis/forecast?region=${encodeURIComponent(region)}&base_year=${baseYear}`, {json: spec});
}

/** GET /analysis/scenarios?region=: the region's saved scenarios. */
export async function scenarios(region) { return (await getJSON("/analysis/scenarios", {region})).scenarios; }

/** POST /analysis/scenarios?region=: save a scenario (audited). */
export function saveScenario(region, spec) { return send(`/analysis/scenarios?region=${encodeURIComponent(region)}`, {json: spec}); }

/** GET /analysis/scenarios/compare: saved scenarios side by side. */
export function compare(ids, baseYear) {
  return getJSON(`/analysis/scenarios/compare?${ids.map(i => `ids=${i}`).join("&")}&base_year=${baseYear}`);
}

/** GET /analysis/scenarios/{id}/export.csv: {name, blob}. */
export function exportScenario(id, baseYear) {
  return download(`/analysis/scenarios/${id}/export.csv`, {query: {base_year: baseYear}, accept: "text/csv",
                                                          fallback: `scenario-${id}.csv`});
}
