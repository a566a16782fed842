// Electricity-carbon factors (api/grid_factors/): regional flow-traced factors, the enterprise factor library,
// the electricity -> fuel simulation of a region and the third-party check.
import {ApiError, explained, getJSON, message, request, send} from "./http.js";

const BASE = "/grid-factors";

/** GET /grid-factors/regional/inputs: input sets, newest first. */
export async function regionalInputs() { return (await getJSON(`${BASE}/regional/inputs`)).inputs; }

/** GET /grid-factors/regional/results: results of an input set (without factors), newest first. */
export async function regionalResults({input_id, convention}) {
  return (await getJSON(`${BASE}/regional/results`, {input_id, convention})).results;
}

/** GET /grid-factors/regional/results/{id}: one result with its factors per region. */
export function regionalResult(resultId) { return getJSON(`${BASE}/regional/results/${resultId}`); }

/** POST /grid-factors/regional/inputs/{id}/trace: trace an input set under a convention. */
export function trace(inputId, convention) { return send(`${BASE}/regional/inputs/${inputId}/trace`, {json: {convention}}); }

/** POST /grid-factors/regional/results/{id}/publish: into the accounting factor library. */
export function publish(resultId) { return send(`${BASE}/regional/results/${resultId}/publish`, {json: {}}); }

/** POST /grid-factors/regional/inputs as multipart: a new input set from a .csv/.xlsx file; ApiError carries
 *  the API's line-numbered problems in `problems`. */
export async function importRegional(file, {name, period, illustrative, source}) {
  const form = new FormData();
  form.append("file", file);
  Object.entries({name, period, illustrative: String(Boolean(illustrative)), source})
    .forEach(([k, v]) => v !== undefined && v !== null && form.append(k, v));
  const response = await request(`${BASE}/regional/inputs`, {method: "POST", form});
  if (response.ok) return response.json();
  const body = await response.clone().json().catch(() => null);
  const error = new ApiError(response.status, body?.detail?.message ? explained(response.status, body.detail.message) : await message(response));
  error.problems = body?.detail?.problems || [];
  throw error;
}

/** GET /grid-factors/enterprise/factors: the library's versions (or the newest per scope) and the pins. */
export function factorLibrary({scope = null, latest = false} = {}) {
  return getJSON(`${BASE}/enterprise/factors`, {scope, latest});
}

/** POST /grid-factors/enterprise/fit: fit per unit or per industry (new versions). */
export function fit(by) { return send(`${BASE}/enterprise/fit`, {json: {by}}); }

/** POST /grid-factors/enterprise/pins: pin a unit to a factor (null lifts the pin), with a reason. */
export function pin({unit_id, factor_id, reason}) { return send(`${BASE}/enterprise/pins`, {json: {unit_id, factor_id, reason}}); }

/** GET /grid-factors/check: estimates against verified figures by industry, region and factor, out of sample
 * (holdout "months": each unit's last testMonths months held out; "units": one unit in `every`; "none": in-sample). */
export function check({bound, worst = 5, holdout = "months", testMonths = 3, every = 5}) {
  return getJSON(`${BASE}/check`, {bound, worst, holdout, test_months: testMonths, every});
}

/** POST /grid-factors/fuel-models/fit: electricity -> coal/oil/gas ratios per industry (new versions). */
export function fitFuelModels() { return send(`${BASE}/fuel-models/fit`, {json: {}}); }

/** GET /grid-factors/units/regions: regions with unit energy data, [{region, units}]. */
export async function unitRegions() { return (await getJSON(`${BASE}/units/regions`)).regions; }

/** GET /grid-factors/simulation: a region's fuel CO2, measured plus simulated, with its band and share. */
export function simulation({region, period, confidence = 0.95}) {
  return getJSON(`${BASE}/simulation`, {region, period: period || null, confidence});
}
