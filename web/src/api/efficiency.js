// 碳效码 (carbon efficiency code) and the carbon account (api/efficiency_code/).
import {ApiError, download, getJSON, message, request, send} from "./http.js";

/** GET /efficiency-code/units: the units in scope with their code of `period` (default: latest year). */
export function units(period = null) { return getJSON("/efficiency-code/units", {period}); }

/** GET /efficiency-code/units/{id}/account: code, history, inputs, drivers, next grade, figures, meters. */
export function account(unitId, period = null) {
  return getJSON(`/efficiency-code/units/${unitId}/account`, {period});
}

/** GET /efficiency-code/distribution: grade counts by county (region) or industry class. */
export function distribution({period = null, by = "region"}) {
  return getJSON("/efficiency-code/distribution", {period, by});
}

/** GET /efficiency-code/distribution/regions: per sub-region of `region`, grade counts, mean grade and share of
 *  grades 4-5 (the grade map), with the configuration and formula versions. */
export function regionDistribution({region, period = null}) {
  return getJSON("/efficiency-code/distribution/regions", {region, period});
}

/** GET /efficiency-code/watch: units whose grade worsened or whose intensity rose `rising` years in a row. */
export function watch(rising = 2) { return getJSON("/efficiency-code/watch", {rising}); }

/** GET /efficiency-code/recomputations: the recorded runs of a period, newest first. */
export function recomputations(period) { return getJSON("/efficiency-code/recomputations", {period}); }

/** GET /efficiency-code/export: {name, blob} of the codes as CSV or XLSX. */
export function exportFile({period, format}) {
  const accept = format === "csv" ? "text/csv"
    : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  return download("/efficiency-code/export", {query: {period, format}, accept, fallback: `efficiency-codes.${format}`});
}

/** POST /efficiency-code/compute: start a computation job; the job. */
export function compute({periods, onlyChanged}) {
  return send("/efficiency-code/compute", {json: {periods, only_changed: onlyChanged}});
}

/** GET /efficiency-code/jobs/{id}: a computation's state and progress. */
export function job(jobId) { return getJSON(`/efficiency-code/jobs/${jobId}`); }

/** POST /efficiency-code/units/{id}/certificate: {name, blob, verifyUrl} of a newly issued certificate (PDF). */
export async function certificate(unitId, period) {
  const response = await request(`/efficiency-code/units/${unitId}/certificate`,
                                 {method: "POST", query: {period}, accept: "application/pdf"});
  if (!response.ok) throw new ApiError(response.status, await message(response));
  const name = (/filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "") || [])[1]
    || "certificate.pdf";
  return {name, blob: await response.blob(), verifyUrl: response.headers.get("X-Verify-Url")};
}

/** GET /efficiency-code/public/certificates/{token}: the certificate's unit, period, code and issue date (no login). */
export function verify(token) { return getJSON(`/efficiency-code/public/certificates/${encodeURIComponent(token)}`); }
