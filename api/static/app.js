// carbonflow dashboard: log in, keep the bearer token in sessionStorage, poll the API with it.
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "carbonflow-token";
const PREFERRED_SITE = "demo-steelworks";
const $ = (id) => document.getElementById(id);
const fmt = (v, d = 3) => (v === null || v === undefined) ? "—" : Number(v).toLocaleString("en", {maximumFractionDigits: d});

let me = null;
let timer = null;

class Unauthenticated extends Error {}

async function api(path, options = {}) {
  const headers = Object.assign({"Accept": "application/json"}, options.headers || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(API + path, Object.assign({}, options, {headers}));
  if (response.status === 401 && path !== "/auth/login") {
    showLogin("Your session has ended; please log in again.");
    throw new Unauthenticated();
  }
  return response;
}

async function message(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map(e => e.msg).join("; ");
  } catch (e) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

function show(id) {
  for (const section of ["login", "change-password", "dashboard"]) $(section).hidden = section !== id;
}

function showLogin(text = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  if (timer) { clearInterval(timer); timer = null; }
  $("login-message").textContent = text;
  $("login-password").value = "";
  $("login-totp").value = "";
  show("login");
  $("login-username").focus();
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {username: $("login-username").value.trim(), password: $("login-password").value};
  const code = $("login-totp").value.trim();
  if (!$("login-totp-row").hidden && code) body.totp = code;
  $("login-message").textContent = "";
  const response = await api("/auth/login", {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  if (response.headers.get("X-Carbonflow-TOTP") === "required") {
    $("login-totp-row").hidden = false;
    $("login-totp").focus();
  }
  if (!response.ok) {
    $("login-message").textContent = await message(response);
    return;
  }
  const result = await response.json();
  sessionStorage.setItem(TOKEN_KEY, result.token);
  $("login-password").value = "";
  $("login-totp").value = "";
  await start();
});

$("change-password").addEventListener("submit", async (event) => {
  event.preventDefault();
  if ($("cp-new").value !== $("cp-repeat").value) {
    $("cp-message").textContent = "The two new passwords differ.";
    return;
  }
  const response = await api("/auth/password", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({current_password: $("cp-current").value, new_password: $("cp-new").value}),
  });
  if (!response.ok) {
    $("cp-message").textContent = await message(response);
    return;
  }
  for (const id of ["cp-current", "cp-new", "cp-repeat"]) $(id).value = "";
  $("cp-message").textContent = "";
  await start();
});

$("logout").addEventListener("click", async () => {
  try { await api("/auth/logout", {method: "POST"}); } catch (e) { /* ended already */ }
  showLogin("Logged out.");
});

async function start() {
  if (!sessionStorage.getItem(TOKEN_KEY)) { showLogin(); return; }
  let response;
  try { response = await api("/auth/me"); } catch (e) { return; }
  if (!response.ok) { showLogin(await message(response)); return; }
  me = await response.json();
  if (me.must_change_password) { show("change-password"); $("cp-current").focus(); return; }
  $("who").textContent = `${me.username} (${me.role})`;
  show("dashboard");
  await refresh();
  if (!timer) timer = setInterval(refresh, 2000);
}

function can(permission) { return me !== null && me.permissions.includes(permission); }

async function json(path) {
  const response = await api(path);
  return response.ok ? response.json() : null;
}

async function refresh() {
  if (me === null) return;
  const start = new Date(); start.setHours(0, 0, 0, 0);
  const end = new Date(Date.now() + 3600e3);
  try {
    const [live, devices, health] = await Promise.all([
      can("live") ? json("/live") : null,
      can("devices") ? json("/devices") : null,
      json("/health"),
    ]);
    const sites = [...new Set(((devices && devices.devices) || []).map(d => d.site_id).filter(Boolean))].sort();
    const site = sites.includes(PREFERRED_SITE) ? PREFERRED_SITE : sites[0];
    $("site").textContent = site || "none visible";
    const body = $("live");
    body.replaceChildren(...((live && live.values) || []).map(v => {
      const tr = document.createElement("tr");
      tr.className = v.quality;
      for (const [text, cls] of [[v.device], [v.point], [fmt(v.value), "num"], [v.unit], [v.quality], [new Date(v.ts).toLocaleTimeString()]]) {
        const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td);
      }
      return tr;
    }));
    const em = (site && can("emissions"))
      ? await json(`/emissions?site=${encodeURIComponent(site)}&start=${start.toISOString()}&end=${end.toISOString()}&interval=1h`)
      : null;
    const bySource = {};
    for (const row of (em && em.rows) || []) bySource[row.source] = (bySource[row.source] || 0) + row.tco2;
    const na = can("emissions") ? "—" : "n/a for your role";
    $("co2-today").textContent = em ? fmt(em.total_tco2, 4) : na;
    for (const s of ["electricity", "natural_gas"]) $(`co2-${s}`).textContent = em ? fmt(bySource[s] || 0, 4) : na;
    $("health").textContent = health ? health.status : "unknown";
    $("updated").textContent = new Date().toLocaleTimeString();
  } catch (e) {
    if (!(e instanceof Unauthenticated)) $("health").textContent = "unreachable";
  }
}

start();
