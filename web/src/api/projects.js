// Reduction projects (api/projects/): the registry and lifecycle, documents, spending, monitoring periods and their
// certification workflow.
import {download, getJSON, request, send, ApiError, message} from "./http.js";

const BASE = "/projects";

/** GET /projects: the projects in the caller's scope, with budget and spent. */
export async function projects() { return (await getJSON(BASE)).projects; }

/** GET /projects?format=csv|xlsx: the same list as a spreadsheet, {name, blob}. */
export function exportProjects(format) {
  return download(BASE, {query: {format}, accept: "*/*", fallback: `projects.${format}`});
}

/** POST /projects: register a project (stage 立项). */
export function create(body) { return send(BASE, {json: body}); }

/** GET /projects/{id}: a project with stage history, documents, points, fees and periods. */
export function project(id) { return getJSON(`${BASE}/${id}`); }

/** POST /projects/{id}/stage: one stage forward, with a comment. */
export function changeStage(id, {to_stage, comment}) { return send(`${BASE}/${id}/stage`, {json: {to_stage, comment}}); }

/** POST /projects/{id}/documents as multipart: a document of the current stage; the answer carries its SHA-256. */
export async function upload(id, file) {
  const form = new FormData();
  form.append("file", file);
  const response = await request(`${BASE}/${id}/documents`, {method: "POST", form});
  if (!response.ok) throw new ApiError(response.status, await message(response));
  return response.json();
}

/** GET /projects/{id}/documents/{document_id}: the stored file, {name, blob}. */
export function document(id, doc) {
  return download(`${BASE}/${id}/documents/${doc.document_id}`, {accept: "*/*", fallback: doc.filename});
}

/** POST /projects/{id}/spending: money spent against the budget. */
export function spend(id, {amount, spent_on, note}) { return send(`${BASE}/${id}/spending`, {json: {amount, spent_on, note}}); }

/** POST /projects/{id}/verifiers: assign an auditor user as the project's verifier (administrators). */
export function assignVerifier(id, username) { return send(`${BASE}/${id}/verifiers`, {json: {username}}); }

/** GET /projects/{id}/periods?format=csv|xlsx: the periods with their provenance as a spreadsheet. */
export function exportPeriods(id, format) {
  return download(`${BASE}/${id}/periods`, {query: {format}, accept: "*/*", fallback: `project-${id}-periods.${format}`});
}

/** POST /projects/{id}/periods: compute ER = BE − PE − LE of a monitoring period. */
export function compute(id, body) { return send(`${BASE}/${id}/periods`, {json: body}); }

/** GET /projects/{id}/periods/{period_id}: a period with its provenance, verdicts and comments. */
export function period(id, periodId) { return getJSON(`${BASE}/${id}/periods/${periodId}`); }

/** POST .../submit, .../certify (comment), .../verdict ({verdict, comment}), .../comments: the workflow. */
export function submit(id, periodId, comment) { return send(`${BASE}/${id}/periods/${periodId}/submit`, {json: {comment}}); }
export function verdict(id, periodId, {verdict: decision, comment}) {
  return send(`${BASE}/${id}/periods/${periodId}/verdict`, {json: {verdict: decision, comment}});
}
export function certify(id, periodId, comment) { return send(`${BASE}/${id}/periods/${periodId}/certify`, {json: {comment}}); }
export function comment(id, periodId, text) { return send(`${BASE}/${id}/periods/${periodId}/comments`, {json: {comment: text}}); }

const part = (value) => encodeURIComponent(value);

/** GET /projects/{id}/points: the bound points with their role, unit and newest reading and its quality. */
export async function points(id) { return (await getJSON(`${BASE}/${id}/points`)).points; }

/** PUT /projects/{id}/points: bind a counter of the owner's devices as export, import or a consumed activity. */
export function bindPoint(id, {device_id, point, role}) {
  return send(`${BASE}/${id}/points`, {method: "PUT", json: {device_id, point, role}});
}

/** DELETE /projects/{id}/points/{device}/{point}: unbind it; later periods no longer read it. */
export function unbindPoint(id, {device_id, point}) {
  return send(`${BASE}/${id}/points/${part(device_id)}/${part(point)}`, {method: "DELETE"});
}

/** GET /projects/{id}/fees: the settled electricity fees by month, with kWh and the unit price. */
export async function fees(id) { return (await getJSON(`${BASE}/${id}/fees`)).fees; }

/** PUT /projects/{id}/fees/{YYYY-MM}: record (or correct) a month's settled fee. */
export function putFee(id, month, {energy_mwh, amount_yuan}) {
  return send(`${BASE}/${id}/fees/${month}`, {method: "PUT", json: {energy_mwh, amount_yuan}});
}

/** POST /projects/{id}/fees/import as multipart: a CSV of months; {imported, refused: [{line, problem}], fees}. */
export async function importFees(id, file) {
  const form = new FormData();
  form.append("file", file);
  const response = await request(`${BASE}/${id}/fees/import`, {method: "POST", form});
  if (!response.ok) throw new ApiError(response.status, await message(response));
  return response.json();
}

/** GET /projects/{id}/fees?format=csv|xlsx: the fees as a spreadsheet, {name, blob}. */
export function exportFees(id, format) {
  return download(`${BASE}/${id}/fees`, {query: {format}, accept: "*/*", fallback: `project-${id}-fees.${format}`});
}

/** GET /projects/{id}/two-high: a 两高 project's approved vs actual energy and CO2 per year, with warnings. */
export async function twoHigh(id) { return (await getJSON(`${BASE}/${id}/two-high`)).years; }

/** PUT /projects/{id}/two-high/{year}: the figures given (others kept); actual figures need actual_source. */
export function putTwoHigh(id, year, figures) { return send(`${BASE}/${id}/two-high/${year}`, {method: "PUT", json: figures}); }

/** POST /projects/{id}/two-high/{year}/from-meters: the year's actual tce and CO2 computed from the bound meters. */
export function twoHighFromMeters(id, year) { return send(`${BASE}/${id}/two-high/${year}/from-meters`, {method: "POST"}); }
