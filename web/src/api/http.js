// The one HTTP client of the web app: every api/<service>.js goes through it. The session's bearer token lives
// in sessionStorage (gone when the tab closes); a 401 (other than at login) ends the session.

import {i18n, lang} from "../i18n.js";

const {t, te} = i18n.global;
const BASE = "/api/v1";
const TOKEN_KEY = "carbonflow-token";

/** Raised when the session is gone; the app shows the login form. */
export class Unauthenticated extends Error {}

/** An answer that is not 2xx, with the API's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let onUnauthenticated = () => {};
const onTokenChange = [];

export function whenUnauthenticated(handler) { onUnauthenticated = handler; }

/** Call `handler` whenever the token changes (caches of one session drop their answers). */
export function whenTokenChanges(handler) { onTokenChange.push(handler); }

export function token() { return sessionStorage.getItem(TOKEN_KEY); }

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
  for (const handler of onTokenChange) handler();
}

/** The address of an API path with its query (for EventSource, which cannot send headers); parameters that are
 *  null or undefined are left out, so the API applies its default (not the text "undefined"). */
export function apiUrl(path, query = null) {
  const given = query ? Object.entries(query).filter(([, v]) => v !== null && v !== undefined) : [];
  const text = new URLSearchParams(given).toString();
  return BASE + path + (text ? `?${text}` : "");
}

/** fetch() of an API path with the bearer token. */
export async function request(path, {method = "GET", query = null, json = undefined, form = undefined,
                                     accept = "application/json"} = {}) {
  const headers = {Accept: accept};
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const options = {method, headers};
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(json);
  } else if (form !== undefined) {
    options.body = form;  // FormData: the browser sets the multipart boundary
  }
  const response = await fetch(apiUrl(path, query), options);
  if (response.status === 401 && path !== "/auth/login") {
    setToken(null);
    onUnauthenticated();
    throw new Unauthenticated();
  }
  return response;
}

/** The API's explanation of a failed answer, led on Chinese pages by what its status means in Chinese (the API
 *  explains in English; its words are kept whole, since they name the field, row or state to change). */
export async function message(response) {
  return explained(response.status, await detail(response));
}

async function detail(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  return detailText(body) ?? `${response.status} ${response.statusText}`;
}

/** The explanation in a failed answer's JSON body: FastAPI's `detail` text or its field errors (null if none). */
export function detailText(body) {
  const given = body && body.detail;
  if (typeof given === "string") return given;
  if (Array.isArray(given)) return given.map(e => `${(e.loc || []).slice(-1)[0] || ""}: ${e.msg}`).join("; ");
  return null;
}

const HAN = /[\u4e00-\u9fff]/;

/** `text` with the status's meaning in front of it on a Chinese page (unless the API already answered in Chinese). */
export function explained(status, text) {
  if (lang() !== "zh-CN" || HAN.test(text)) return text;
  const key = `problem.${status}`;
  return `${te(key) ? t(key) : t("problem.other", {status})}：${text}`;
}

/** A JSON answer, or ApiError with the API's message. */
export async function getJSON(path, query = null) {
  const response = await request(path, {query});
  if (!response.ok) throw new ApiError(response.status, await message(response));
  return response.json();
}

/** A JSON request that changes something (POST, PUT, DELETE): its JSON answer, or ApiError with the API's message. */
export async function send(path, {method = "POST", json = undefined} = {}) {
  const response = await request(path, {method, json});
  if (!response.ok) throw new ApiError(response.status, await message(response));
  return response.json();
}

/** A file the API answers with: {name, blob}, the name from its Content-Disposition (else `fallback`). */
export async function download(path, {query = null, accept, fallback}) {
  const response = await request(path, {query, accept});
  if (!response.ok) throw new ApiError(response.status, await message(response));
  const name = (/filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "") || [])[1] || fallback;
  return {name, blob: await response.blob()};
}
