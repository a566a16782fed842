// The API client of the dashboards: the bearer token lives in sessionStorage (gone when the tab closes).

export const API = "/api/v1";
const TOKEN_KEY = "carbonflow-token";

/** Raised when the session is gone; the app shows the login form. */
export class Unauthenticated extends Error {}

/** An answer that is not 2xx, with the API's message. */
export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

let onUnauthenticated = () => {};

export function whenUnauthenticated(handler) { onUnauthenticated = handler; }

export function token() { return sessionStorage.getItem(TOKEN_KEY); }

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
  sitesPromise = null;
}

/** fetch() of an API path with the bearer token; a 401 (other than at login) ends the session. */
export async function api(path, options = {}) {
  const headers = Object.assign({"Accept": "application/json"}, options.headers || {});
  const bearer = token();
  if (bearer) headers["Authorization"] = "Bearer " + bearer;
  const response = await fetch(API + path, Object.assign({}, options, {headers}));
  if (response.status === 401 && path !== "/auth/login") {
    setToken(null);
    onUnauthenticated();
    throw new Unauthenticated();
  }
  return response;
}

/** The API's explanation of a failed answer. */
export async function message(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map(e => `${(e.loc || []).slice(-1)[0] || ""}: ${e.msg}`).join("; ");
  } catch (e) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

/** GET a JSON answer; ApiError with the API's message otherwise. */
export async function getJSON(path, params = null) {
  const query = params ? "?" + new URLSearchParams(params).toString() : "";
  const response = await api(path + query);
  if (!response.ok) throw new ApiError(response.status, await message(response));
  return response.json();
}

/** POST a JSON body; the raw response (callers read headers such as the TOTP hint). */
export function postJSON(path, body) {
  return api(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
}

let sitesPromise = null;

/** The sites the caller may see, asked once per session. */
export function visibleSites() {
  sitesPromise = sitesPromise || getJSON("/sites").then(body => body.sites).catch((e) => { sitesPromise = null; throw e; });
  return sitesPromise;
}

/** GET /series in columns (one array per field: a smaller answer, quicker to make), handed back as rows in
 *  `points`, as the default format has them. An answer that comes as rows (interval=1mo) stays as it is. */
export async function getSeries(params) {
  const answer = await getJSON("/series", Object.assign({}, params, {format: "columns"}));
  const columns = answer.columns;
  if (!columns) return answer;
  const fields = Object.keys(columns).filter(f => f !== "quality_counts");
  const counts = columns.quality_counts;
  answer.points = columns.ts.map((_, i) => {
    const row = {};
    for (const f of fields) row[f] = columns[f][i];
    if (counts) row.quality_counts = {good: counts.good[i], uncertain: counts.uncertain[i], bad: counts.bad[i]};
    return row;
  });
  delete answer.columns;
  return answer;
}
