// Who may do what (api/auth/): sign-in, the session, password, single sign-on, machine tokens, user accounts.
import {getJSON, request, send} from "./http.js";

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

/** GET /auth/tokens: the signed-in user's machine tokens (never their secrets). */
export async function tokens() { return (await getJSON("/auth/tokens")).tokens; }

/** POST /auth/tokens: a new machine token; the answer's `token` is its secret, shown this once. */
export function createToken({name, scopes, expires_in_days}) {
  return send("/auth/tokens", {json: {name, scopes, expires_in_days}});
}

/** DELETE /auth/tokens/{id}: revoke one of the user's tokens. */
export function revokeToken(tokenId) { return send(`/auth/tokens/${tokenId}`, {method: "DELETE"}); }

/** GET /users: every account (administrators). */
export async function users() { return (await getJSON("/users")).users; }

/** POST /users: a new account that must change its password at first login; without a password the answer
 *  carries a generated one-time password. */
export function createUser({username, role, password, region, enterprise_id, enterprises}) {
  return send("/users", {json: {username, role, password: password || null, ...scopeOf({region, enterprise_id, enterprises})}});
}

/** POST /users/{name}/disable: its sessions end and its machine tokens stop working. */
export function disableUser(username) { return send(`/users/${encodeURIComponent(username)}/disable`); }

/** POST /users/{name}/enable. */
export function enableUser(username) { return send(`/users/${encodeURIComponent(username)}/enable`); }

/** POST /users/{name}/password: a new password to change at next login (generated and answered when none given). */
export function resetPassword(username, {password}) {
  return send(`/users/${encodeURIComponent(username)}/password`, {json: {password: password || null}});
}

/** PUT /users/{name}/scope: what the user sees (region, enterprise or enterprises, as its role takes). */
export function setScope(username, {region, enterprise_id, enterprises}) {
  return send(`/users/${encodeURIComponent(username)}/scope`, {method: "PUT", json: scopeOf({region, enterprise_id, enterprises})});
}

/** PUT /users/{name}/role: another role with the scope it takes; {..., credentials_revoked} (sessions and tokens
 *  end when privileges drop; the last administrator keeps its role: 409). */
export function setRole(username, {role, region, enterprise_id, enterprises}) {
  return send(`/users/${encodeURIComponent(username)}/role`,
              {method: "PUT", json: {role, ...scopeOf({region, enterprise_id, enterprises})}});
}

// the API refuses a scope its role does not take, so empty fields are left out rather than sent as ""
function scopeOf({region, enterprise_id, enterprises}) {
  return {region: region || null, enterprise_id: enterprise_id || null, enterprises: enterprises || []};
}
