// GHG inventory and reports (api/accounting/): entered activity data, the report list, its workflow and files.
import {ApiError, apiUrl, detailText, download, explained, getJSON, request, send, token} from "./http.js";

const enc = encodeURIComponent;

/** A 422 whose body lists bad lines: {message, problems: [{line, reason}]}. */
export class LineProblems extends ApiError {
  constructor(message, problems) {
    super(422, message);
    this.problems = problems;
  }
}

async function answer(response) {
  if (response.ok) return response.json();
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const detail = body && body.detail;
  if (detail && Array.isArray(detail.problems)) throw new LineProblems(explained(response.status, detail.message), detail.problems);
  throw new ApiError(response.status, explained(response.status, detailText(body) ?? `${response.status} ${response.statusText}`));
}

/** GET /inventory/{e}/activity-options: sites, and per source type the items, units and directions allowed. */
export function activityOptions(enterprise) { return getJSON(`/inventory/${enc(enterprise)}/activity-options`); }

/** GET /inventory/{e}/activity: the stored versions, oldest first. */
export async function activityVersions(enterprise) {
  return (await getJSON(`/inventory/${enc(enterprise)}/activity`)).submissions;
}

/** GET /inventory/{e}/activity/{version}: one version with its lines. */
export function activityVersion(enterprise, version) {
  return getJSON(`/inventory/${enc(enterprise)}/activity/${version}`);
}

/** POST /inventory/{e}/activity as JSON lines; LineProblems lists the bad lines (numbered from 1). */
export async function submitActivity(enterprise, {lines, note}) {
  return answer(await request(`/inventory/${enc(enterprise)}/activity`, {method: "POST", json: {lines, note}}));
}

/** POST /inventory/{e}/activity with a CSV/XLSX file; LineProblems lists the bad lines by the file's line numbers. */
export async function uploadActivity(enterprise, {file, quality, note}) {
  const body = new FormData();
  body.append("file", file, file.name);
  body.append("quality", quality);
  if (note) body.append("note", note);
  const headers = {Accept: "application/json"};
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  return answer(await fetch(apiUrl(`/inventory/${enc(enterprise)}/activity`), {method: "POST", headers, body}));
}

/** GET /inventory/{e}/activity-template.{csv|xlsx}: {name, blob} of the upload template. */
export function activityTemplate(enterprise, {format, year}) {
  return download(`/inventory/${enc(enterprise)}/activity-template.${format}`,
                  {query: {year}, accept: "*/*", fallback: `activity-template-${year}.${format}`});
}

/** GET /inventory/{e}?year=: the inventory document (totals by source and process, lines, findings). */
export function inventory(enterprise, {year}) { return getJSON(`/inventory/${enc(enterprise)}`, {year}); }

/** GET /reports: enterprise years in scope with state and current snapshot. */
export async function reports({year, enterprise} = {}) {
  return (await getJSON("/reports", {year: year || null, enterprise: enterprise || null})).reports;
}

/** GET /reports/{e}/{year}/workflow: state, the caller's allowed actions, events, snapshots, verifications. */
export function workflow(enterprise, year) { return getJSON(`/reports/${enc(enterprise)}/${year}/workflow`); }

/** POST /reports/{e}/{year}/actions/{action}: submit, first_review, final_review or return (with a comment). */
export function act(enterprise, year, action, {comment = ""} = {}) {
  return send(`/reports/${enc(enterprise)}/${year}/actions/${action}`, {json: {comment}});
}

/** POST /reports/{e}/{year}/verification: the verifier's verified total, findings and opinion. */
export function verify(enterprise, year, {verified_total_tco2, opinion, findings = []}) {
  return send(`/reports/${enc(enterprise)}/${year}/verification`, {json: {verified_total_tco2, opinion, findings}});
}

/** GET /reports/{e}/{year}.{pdf|xlsx}: {name, blob}; a snapshot's frozen report, in zh or en, signed (approved PDF). */
export function reportFile(enterprise, year, {format, snapshot = null, lang = "zh", signed = false}) {
  return download(`/reports/${enc(enterprise)}/${year}.${format}`, {
    query: {snapshot, lang: lang === "zh" ? null : lang, signed: signed ? "true" : null},
    accept: format === "pdf" ? "application/pdf" : "*/*", fallback: `${enterprise}-${year}.${format}`});
}

/** GET /reports/{e}/{year}/snapshots/{id}: a submitted snapshot with its frozen inventory document. */
export function snapshot(enterprise, year, snapshotId) {
  return getJSON(`/reports/${enc(enterprise)}/${year}/snapshots/${snapshotId}`);
}
