// The overview's comparison panel: this month's tCO2 to date, in total and by process, against the same span of
// last month (环比, MoM) and of this month last year (同比, YoY), from GET /emissions/compare?to=... Both
// questions use one cut time, so the three columns describe the same moment.
import {getJSON} from "../api.js";
import {dateTime, el, num} from "../format.js";
import {t, term} from "../i18n.js";

/** The calendar month (YYYY-MM) that `date` falls in, in time zone `tz`. */
function monthIn(date, tz) {
  const parts = new Intl.DateTimeFormat("en-CA", {timeZone: tz, year: "numeric", month: "2-digit"}).formatToParts(date);
  const part = (type) => parts.find(p => p.type === type).value;
  return `${part("year")}-${part("month")}`;
}

/** Month-to-date comparisons of `site` as of now: {to, mom, yoy}, or {to, error} when the API refused. */
export async function loadComparison(site, tz) {
  const now = new Date();
  const params = {site, period: monthIn(now, tz), tz, to: now.toISOString()};
  try {
    const [mom, yoy] = await Promise.all(["mom", "yoy"].map(basis => getJSON("/emissions/compare",
                                                                             Object.assign({basis}, params))));
    return {to: params.to, mom, yoy};
  } catch (error) {
    return {to: params.to, error};
  }
}

function changeCell(change, col) {
  const rel = change ? change.relative_change : null;
  if (rel === null || rel === undefined) {
    return el("td", {class: "num muted", dataset: {col, value: ""}, title: change && change.note ? change.note : null},
              t("overview.compare.noBase"));
  }
  // more CO2 than the base is the bad direction
  const badge = rel > 0 ? "bad" : rel < 0 ? "good" : "neutral";
  const arrow = rel > 0 ? "▲" : rel < 0 ? "▼" : "";
  return el("td", {class: "num", dataset: {col, value: rel}},
            el("span", {class: `badge ${badge}`}, `${arrow} ${num(Math.abs(rel) * 100, 1)}%`.trim()));
}

// a number cell that names its column; the exact figure stays in data-value, as numberEl's do
function numCell(value, col) {
  return el("td", {class: "num", dataset: {col, value: value ?? ""}}, num(value, 3));
}

// a process missing from one answer had 0 tCO2 in both of that answer's periods
function row(label, attrs, mom, yoy, extra = {}) {
  return el("tr", Object.assign({dataset: attrs}, extra),
    el("td", {}, label),
    numCell(mom ? mom.current : yoy.current, "current"),
    numCell(mom ? mom.previous : 0, "mom"),
    changeCell(mom, "mom-change"),
    numCell(yoy ? yoy.previous : 0, "yoy"),
    changeCell(yoy, "yoy-change"));
}

function span(window) {
  return `${dateTime(window.start)} – ${dateTime(window.end)}`;
}

/** The panel's card for what loadComparison gave (null while it has not answered yet). */
export function comparisonCard(data) {
  const head = el("div", {class: "card-head"}, el("h2", {}, t("overview.compare")),
                  el("span", {class: "muted"}, t("overview.compare.sub")));
  if (!data) return el("div", {class: "card", id: "compare-card"}, head, el("div", {class: "empty"}, t("common.loading")));
  if (data.error) {
    return el("div", {class: "card", id: "compare-card"}, head,
              el("div", {class: "notice info", id: "compare-error"}, t("common.error", {message: data.error.message})));
  }
  const {mom, yoy} = data;
  const processes = new Map();
  for (const [basis, answer] of [["mom", mom], ["yoy", yoy]]) {
    for (const p of answer.by_process) {
      const key = p.process ?? "";
      processes.set(key, Object.assign(processes.get(key) || {}, {[basis]: p.tco2}));
    }
  }
  const ordered = [...processes.entries()].sort((a, b) =>
    ((b[1].mom || b[1].yoy).current - (a[1].mom || a[1].yoy).current) || a[0].localeCompare(b[0]));
  const table = el("table", {id: "table-compare", dataset: {to: data.to}},
    el("thead", {}, el("tr", {},
      el("th", {}, t("common.process")), el("th", {class: "num"}, t("overview.compare.current")),
      el("th", {class: "num"}, t("overview.compare.mom")), el("th", {class: "num"}, t("overview.compare.momChange")),
      el("th", {class: "num"}, t("overview.compare.yoy")), el("th", {class: "num"}, t("overview.compare.yoyChange")))),
    el("tbody", {}, ordered.length
      ? ordered.map(([key, changes]) => row(term(key), {process: key}, changes.mom, changes.yoy))
      : el("tr", {}, el("td", {colspan: 6, class: "empty"}, t("overview.compare.none")))),
    el("tfoot", {}, row(t("common.total"), {row: "total"}, mom.total_tco2, yoy.total_tco2, {class: "total"})));
  const spans = el("div", {class: "footnote", id: "compare-spans"},
    t("overview.compare.spans", {current: span(mom.current), mom: span(mom.previous), yoy: span(yoy.previous)}));
  return el("div", {class: "card", id: "compare-card"}, head, table, spans);
}
