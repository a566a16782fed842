// carbonflow dashboards: log in (with a TOTP code when the account needs one), then a view per hash route:
// #/overview (energy manager), #/series (series explorer), #/devices (device health, technicians).
// The session's bearer token is kept in sessionStorage by ./static/js/api.js.
import {API, api, message, postJSON, setToken, token, whenUnauthenticated} from "./static/js/api.js";
import {setLang, t, translate, lang} from "./static/js/i18n.js";
import {disposeCharts} from "./static/js/charts.js";
import {parseRoute} from "./static/js/route.js";
import * as overview from "./static/js/views/overview.js";
import * as series from "./static/js/views/series.js";
import * as devices from "./static/js/views/devices.js";

const VIEWS = {overview, series, devices};
const $ = (id) => document.getElementById(id);

let me = null;
let active = null;  // {name, view}

function can(permission) { return me !== null && me.permissions.includes(permission); }

function allowed(name) {
  const link = document.querySelector(`#nav a[data-route="${name}"]`);
  return Boolean(link) && link.dataset.needs.split(" ").every(can);
}

function showAuth(form, text = "") {
  stopView();
  $("shell").hidden = true;
  $("auth").hidden = false;
  $("login").hidden = form !== "login";
  $("change-password").hidden = form !== "change-password";
  if (form === "login") {
    $("login-message").textContent = text;
    $("login-password").value = "";
    $("login-totp").value = "";
    $("login-username").focus();
  } else {
    $("cp-current").focus();
  }
}

function showLogin(text = "") {
  setToken(null);
  me = null;
  $("login-totp-row").hidden = true;
  showAuth("login", text);
}

whenUnauthenticated(() => showLogin(t("login.ended")));

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {username: $("login-username").value.trim(), password: $("login-password").value};
  const code = $("login-totp").value.trim();
  if (!$("login-totp-row").hidden && code) body.totp = code;
  $("login-message").textContent = "";
  const button = event.submitter || $("login").querySelector("button");
  button.disabled = true;
  try {
    const response = await postJSON("/auth/login", body);
    if (response.headers.get("X-Carbonflow-TOTP") === "required") {
      const first = $("login-totp-row").hidden;
      $("login-totp-row").hidden = false;
      $("login-totp").focus();
      if (first && !code) return;  // the password was right: now ask for the code, without an error
    }
    if (!response.ok) {
      $("login-message").textContent = await message(response);
      return;
    }
    setToken((await response.json()).token);
    $("login-password").value = "";
    $("login-totp").value = "";
    await start();
  } finally {
    button.disabled = false;
  }
});

$("change-password").addEventListener("submit", async (event) => {
  event.preventDefault();
  if ($("cp-new").value !== $("cp-repeat").value) {
    $("cp-message").textContent = t("password.differ");
    return;
  }
  const response = await postJSON("/auth/password", {current_password: $("cp-current").value,
                                                      new_password: $("cp-new").value});
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
  showLogin(t("login.loggedout"));
});

for (const button of document.querySelectorAll("[data-lang-switch]")) {
  button.addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
}
window.addEventListener("langchange", () => { if (me) paintWho(); });

function paintWho() {
  $("who-name").textContent = me.username;
  $("who-role").textContent = me.role;
  $("who-initial").textContent = me.username.slice(0, 1);
}

function stopView() {
  if (active && active.view.stop) active.view.stop();
  active = null;
  disposeCharts();
}

function route() {
  if (me === null) return;
  const [name, query] = parseRoute();
  const names = Object.keys(VIEWS).filter(allowed);
  if (!names.includes(name)) {
    const fallback = names[0];
    if (fallback && name !== fallback) { location.replace(`#/${fallback}`); return; }
  }
  stopView();
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.route === name);
  const main = $("view");
  main.replaceChildren();
  if (!VIEWS[name] || !allowed(name)) {
    main.textContent = t("common.notAllowed");
    return;
  }
  active = {name, view: VIEWS[name]};
  active.view.start(main, {me, can, params: new URLSearchParams(query || "")});
}

window.addEventListener("hashchange", route);

// Single sign-on: the button shows only when the API has a provider configured. The API's callback sends the
// browser back here with a one-time handoff code after #sso=, which is traded for a session token at once.
async function offerSso() {
  try {
    const response = await fetch(API + "/auth/sso/status", {headers: {"Accept": "application/json"}});
    const status = response.ok ? await response.json() : {enabled: false};
    $("login-sso").hidden = !status.enabled;
    if (status.enabled) $("login-sso").title = status.name;
  } catch (e) { /* the password form works without it */ }
}

async function finishSso() {
  const handoff = location.hash.slice("#sso=".length);
  history.replaceState(null, "", location.pathname + location.search);
  const response = await postJSON("/auth/sso/exchange", {handoff});
  if (!response.ok) return message(response);
  setToken((await response.json()).token);
  return "";
}

async function start() {
  offerSso();
  const ssoProblem = location.hash.startsWith("#sso=") ? await finishSso() : "";
  if (!token()) { showLogin(ssoProblem); return; }
  let response;
  try { response = await api("/auth/me"); } catch (e) { return; }
  if (!response.ok) { showLogin(await message(response)); return; }
  me = await response.json();
  if (me.must_change_password) { showAuth("change-password"); return; }
  for (const link of document.querySelectorAll("#nav a")) link.hidden = !allowed(link.dataset.route);
  paintWho();
  $("auth").hidden = true;
  $("shell").hidden = false;
  route();
}

translate();
start();
