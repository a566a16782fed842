// Who may do what (api/auth/): sign-in, the session, password, single sign-on.
import {getJSON, request} from "./http.js";

/** POST /auth/login; the raw answer, whose X-Carbonflow-TOTP header asks for a code. */
export function login({username, password, totp}) {
  return request("/auth/login", {method: "POST", json: totp ? {username, password, totp} : {username, password}});
}

/** POST /auth/logout. */
export function logout() { return request("/auth/logout", {method: "POST"}); }

/** GET /auth/me: the raw answer (a refused session is shown with the API's message). */
export function me() { return request("/auth/me"); }

/** POST /auth/password. */
export function changePassword({current_password, new_password}) {
  return request("/auth/password", {method: "POST", json: {current_password, new_password}});
}

/** GET /auth/sso/status: {enabled, name}; {enabled: false} when unreachable. */
export async function ssoStatus() {
  try { return await getJSON("/auth/sso/status"); } catch { return {enabled: false}; }
}

/** The address of GET /auth/sso/start, where the browser goes to sign in with the provider. */
export const SSO_START = "/api/v1/auth/sso/start";

/** POST /auth/sso/exchange: a one-time handoff code for a session token. */
export function ssoExchange(handoff) { return request("/auth/sso/exchange", {method: "POST", json: {handoff}}); }
