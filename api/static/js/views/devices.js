// Device health for technicians: status from the last contact, readings of a window counted by quality,
// per device and (unfolded) per point, then each gateway's own report (spool backlog, oldest unsent reading,
// readings dropped by spool overflow). Refreshed from GET /devices/health 10 s after each answer (an answer slower
// than that delays the next one instead of piling requests onto a busy database).
import {getJSON} from "../api.js";
import {ago, dateTime, el, errorBox, num, numberEl, pct} from "../format.js";
import {t, term} from "../i18n.js";
import {replaceRoute} from "../route.js";

const REFRESH_MS = 10000;
const WINDOWS = [1, 24, 168];
const STATUSES = ["online", "stale", "offline", "never"];

let state = null;

export async function start(main, ctx) {
  const hours = Number(ctx.params.get("hours"));
  state = {main, ctx, hours: WINDOWS.includes(hours) ? hours : 1, data: null, open: new Set(), timer: null,
           loading: 0, error: null, onLang: () => paint()};
  window.addEventListener("langchange", state.onLang);
  main.append(el("div", {class: "empty"}, t("common.loading")));
  await refresh(state);
}

// load, then come back REFRESH_MS after the answer, for as long as `mine` is the view's state; a refresh
// overtaken by a newer one (another window picked meanwhile) leaves the next turn to that one
async function refresh(mine) {
  if (state !== mine) return;
  clearTimeout(mine.timer);
  if (await load()) mine.timer = setTimeout(() => refresh(mine), REFRESH_MS);
}

export function stop() {
  if (!state) return;
  window.removeEventListener("langchange", state.onLang);
  clearTimeout(state.timer);
  state = null;
}

// true when the answer (or error) is painted; false, and dropped, when the view stopped or a newer request
// overtook it
async function load() {
  const mine = state;
  const ticket = ++state.loading;
  try {
    const data = await getJSON("/devices/health", {hours: state.hours});
    if (state !== mine || ticket !== state.loading) return false;
    state.data = data;
    state.error = null;
  } catch (error) {
    if (state !== mine || ticket !== state.loading) return false;
    state.error = error;
  }
  paint();
  return true;
}

function total(q) { return q.good + q.uncertain + q.bad; }

function qualityBar(q) {
  const n = total(q);
  return el("div", {},
    el("div", {class: "qbar", title: `${q.good} / ${q.uncertain} / ${q.bad}`},
       ["good", "uncertain", "bad"].map(k => n ? el("span", {class: k, style: `width:${q[k] / n * 100}%`}) : null)),
    el("div", {class: "qcounts"},
       ["good", "uncertain", "bad"].map(k => el("span", {class: `q-${k}`, dataset: {quality: k}},
         el("b", {class: "num", dataset: {value: q[k]}}, num(q[k], 0)), ` ${t(`devices.${k}`)}`))));
}

function paint() {
  if (!state) return;
  const main = state.main;
  const picker = el("select", {id: "health-window", "aria-label": t("devices.window"), onchange: (e) => {
    state.hours = Number(e.target.value);
    replaceRoute("devices", new URLSearchParams({hours: state.hours}));
    refresh(state);
  }}, WINDOWS.map(h => el("option", {value: h, selected: h === state.hours}, t(`devices.window.${h}`))));
  const head = el("div", {class: "page-head"},
    el("div", {}, el("h1", {}, t("devices.title")), el("div", {class: "sub"}, t("devices.subtitle"))),
    el("div", {class: "head-tools"},
       state.data ? el("span", {class: "muted small"}, t("common.updated", {time: dateTime(state.data.generated_at)})) : null,
       picker));
  if (!state.data) {
    main.replaceChildren(head, state.error ? errorBox(state.error) : el("div", {class: "empty"}, t("common.loading")));
    return;
  }
  const devices = state.data.devices;
  const counts = Object.fromEntries(STATUSES.map(s => [s, devices.filter(d => d.status === s).length]));
  const all = devices.reduce((q, d) => ({good: q.good + d.quality.good, uncertain: q.uncertain + d.quality.uncertain,
                                         bad: q.bad + d.quality.bad}), {good: 0, uncertain: 0, bad: 0});
  const summary = el("div", {class: "grid summary"},
    STATUSES.map(s => el("div", {class: "card stat", id: `count-${s}`},
      el("div", {class: "label"}, el("span", {class: `status ${s}`}, t(`status.${s}`))),
      el("div", {class: "value"}, numberEl("span", counts[s], 0)))),
    el("div", {class: "card stat"}, el("div", {class: "label"}, t("devices.goodShare")),
       el("div", {class: "value", id: "good-share"}, total(all) ? pct(all.good / total(all) * 100) : "—")));

  const rows = [];
  for (const d of devices) {
    const open = state.open.has(d.device_id);
    rows.push(el("tr", {class: "device-row", dataset: {device: d.device_id, status: d.status}},
      el("td", {}, el("button", {type: "button", class: "toggle", title: t("devices.showPoints"), "aria-expanded": open,
                                 onclick: () => { open ? state.open.delete(d.device_id) : state.open.add(d.device_id); paint(); }},
                      open ? "▾" : "▸")),
      el("td", {}, el("span", {class: `status ${d.status}`}, t(`status.${d.status}`))),
      el("td", {}, el("b", {}, d.device_id), el("div", {class: "muted small"}, d.profile || "")),
      el("td", {}, d.site_id || "—"), el("td", {}, term(d.process)), el("td", {}, d.gateway_id || "—"),
      el("td", {title: dateTime(d.last_seen)}, ago(d.age_s)),
      el("td", {class: "num"}, num(d.points.length, 0)),
      el("td", {}, qualityBar(d.quality))));
    if (open) {
      rows.push(el("tr", {class: "points-row"}, el("td", {colspan: 9}, el("table", {},
        el("thead", {}, el("tr", {}, el("th", {}, t("common.point")), el("th", {class: "num"}, t("devices.lastValue")),
           el("th", {}, t("common.unit")), el("th", {}, t("common.quality")), el("th", {}, t("devices.lastSeen")),
           el("th", {}, t("devices.readings")))),
        el("tbody", {}, d.points.map(p => el("tr", {},
          el("td", {}, p.point), numberEl("td", p.last_value, 3), el("td", {}, p.unit || ""),
          el("td", {class: p.last_quality ? `q-${p.last_quality}` : "muted"}, p.last_quality ? t(`quality.${p.last_quality}`) : "—"),
          el("td", {class: "muted"}, dateTime(p.last_reading_at)), el("td", {}, qualityBar(p.quality)))))))));
    }
  }
  const table = el("div", {class: "card"}, devices.length ? el("table", {id: "device-health"},
    el("thead", {}, el("tr", {}, el("th", {}), el("th", {}, t("devices.status")), el("th", {}, t("common.device")),
       el("th", {}, t("devices.site")), el("th", {}, t("common.process")), el("th", {}, t("devices.gateway")),
       el("th", {}, t("devices.lastSeen")), el("th", {class: "num"}, t("devices.points")), el("th", {}, t("devices.readings")))),
    el("tbody", {}, rows)) : el("div", {class: "empty"}, t("devices.none")));
  main.replaceChildren(...[head, state.error ? errorBox(state.error) : null, summary, table,
                            gatewayTable(state.data.gateways || [])].filter(Boolean));
}

function gatewayTable(gateways) {
  const rows = gateways.map(g => el("tr", {class: "gateway-row", dataset: {gateway: g.gateway_id, status: g.status}},
    el("td", {}, el("span", {class: `status ${g.status}`}, t(`status.${g.status}`))),
    el("td", {}, el("b", {}, g.gateway_id)), el("td", {}, g.site_id || "—"),
    el("td", {title: dateTime(g.last_seen)}, ago(g.age_s)),
    numberEl("td", g.spool_backlog, 0, {dataset: {field: "backlog", value: g.spool_backlog ?? ""}}),
    numberEl("td", g.oldest_unsent_age_s, 1, {dataset: {field: "oldest", value: g.oldest_unsent_age_s ?? ""}}),
    numberEl("td", g.dropped_total, 0, {class: g.dropped_total ? "num q-bad" : "num",
                                        dataset: {field: "dropped", value: g.dropped_total}}),
    el("td", {class: "muted small"}, g.agent_version || "—")));
  return el("div", {class: "card"}, el("h2", {}, t("devices.gateways")), gateways.length
    ? el("table", {id: "gateway-health"},
        el("thead", {}, el("tr", {}, el("th", {}, t("devices.status")), el("th", {}, t("devices.gateway")),
           el("th", {}, t("devices.site")), el("th", {}, t("devices.lastSeen")),
           el("th", {class: "num"}, t("devices.backlog")), el("th", {class: "num"}, t("devices.oldestUnsent")),
           el("th", {class: "num"}, t("devices.dropped")), el("th", {}, t("devices.agent")))),
        el("tbody", {}, rows))
    : el("div", {class: "empty"}, t("devices.noGateways")));
}
