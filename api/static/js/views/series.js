// Series explorer: pick a device and point, a range and an interval (raw, 1 min, 1 h, 1 day, 1 month); chart, figures,
// table, and a CSV export (GET /export/series.csv, fetched with the bearer header and saved as a file).
import {api, getJSON, getSeries, message} from "../api.js";
import {base, loadCharts, makeChart} from "../charts.js";
import {dateTime, decimalsFor, el, errorBox, num, numberEl} from "../format.js";
import {t, term} from "../i18n.js";
import {replaceRoute} from "../route.js";

const RANGES = {"1h": 3600e3, "6h": 6 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3,
                "1y": 365 * 86400e3};
const DEFAULT_INTERVAL = {"1h": "raw", "6h": "1m", "24h": "1m", "7d": "1h", "30d": "1h", "1y": "1mo", "custom": "1h"};
const INTERVALS = ["raw", "1m", "1h", "1d", "1mo"];
// days and months are the plant's local ones, as on the overview
const PLANT_TZ = "Asia/Shanghai";
const RAW_LIMIT = 7 * 86400e3;
const TABLE_ROWS = 500;

let state = null;

export async function start(main, ctx) {
  const p = ctx.params;
  state = {main, ctx, devices: [], device: p.get("device"), point: p.get("point"), range: p.get("range") || "24h",
           interval: p.get("interval"), from: p.get("start"), to: p.get("end"), result: null, error: null,
           echarts: null, chart: null, loading: 0, onLang: () => paint()};
  if (!RANGES[state.range] && state.range !== "custom") state.range = "24h";
  if (!INTERVALS.includes(state.interval)) state.interval = DEFAULT_INTERVAL[state.range];
  window.addEventListener("langchange", state.onLang);
  main.append(el("div", {class: "empty"}, t("common.loading")));
  const mine = state;
  try {
    const [devices, echarts] = await Promise.all([getJSON("/devices"), loadCharts()]);
    if (state !== mine) return;
    state.devices = devices.devices.filter(d => d.points.length);
    state.echarts = echarts;
    if (!state.devices.some(d => d.device_id === state.device)) state.device = state.devices.length ? state.devices[0].device_id : null;
    pickPoint();
    paint();
    await query();
  } catch (error) {
    if (state === mine) main.replaceChildren(errorBox(error));
  }
}

export function stop() {
  if (!state) return;
  window.removeEventListener("langchange", state.onLang);
  state = null;
}

function device() { return state.devices.find(d => d.device_id === state.device) || null; }

function pickPoint() {
  const d = device();
  if (!d) { state.point = null; return; }
  if (!d.points.some(p => p.point === state.point)) {
    const gauge = d.points.find(p => p.kind === "gauge" && p.unit);
    state.point = (gauge || d.points[0]).point;
  }
}

function pointInfo() {
  const d = device();
  return d ? d.points.find(p => p.point === state.point) || null : null;
}

function window_() {
  if (state.range === "custom" && state.from && state.to) return [new Date(state.from), new Date(state.to)];
  const end = new Date();
  return [new Date(end.getTime() - (RANGES[state.range] || RANGES["24h"])), end];
}

function remember() {
  const [from, to] = window_();
  const params = new URLSearchParams({device: state.device || "", point: state.point || "", range: state.range,
                                      interval: state.interval});
  if (state.range === "custom") { params.set("start", from.toISOString()); params.set("end", to.toISOString()); }
  replaceRoute("series", params);  // not once the person has moved on to another view
}

async function query() {
  if (!state || !state.device || !state.point) return;
  const [from, to] = window_();
  if (state.interval === "raw" && to - from > RAW_LIMIT) state.interval = "1m";
  remember();
  const mine = state;
  const ticket = ++state.loading;
  state.error = null;
  paintBusy(true);
  try {
    const result = await getSeries({device: state.device, point: state.point, start: from.toISOString(),
                                    end: to.toISOString(), interval: state.interval, tz: PLANT_TZ});
    if (state !== mine || ticket !== state.loading) return;
    state.result = result;
  } catch (error) {
    if (state !== mine || ticket !== state.loading) return;
    state.result = null;
    state.error = error;
  }
  paint();
}

function localInput(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function segmented(id, options, current, onPick, disabled = () => false) {
  return el("div", {class: "segmented", id, role: "group"}, options.map(([value, label]) =>
    el("button", {type: "button", class: value === current ? "on" : "", dataset: {value}, disabled: disabled(value),
                  onclick: () => onPick(value)}, label)));
}

function paint() {
  if (!state) return;
  const main = state.main;
  const head = el("div", {class: "page-head"},
    el("div", {}, el("h1", {}, t("series.title")), el("div", {class: "sub"}, t("series.subtitle"))));
  if (!state.devices.length) {
    main.replaceChildren(head, el("div", {class: "notice info"}, t("series.noDevices")));
    return;
  }
  const [from, to] = window_();
  const deviceSelect = el("select", {id: "series-device", onchange: (e) => { state.device = e.target.value; pickPoint(); paint(); query(); }},
    state.devices.map(d => el("option", {value: d.device_id, selected: d.device_id === state.device},
                              `${d.device_id}${d.process ? " · " + term(d.process) : ""}`)));
  const pointSelect = el("select", {id: "series-point", onchange: (e) => { state.point = e.target.value; query(); }},
    (device() ? device().points : []).map(p => el("option", {value: p.point, selected: p.point === state.point},
      `${p.point}${p.unit ? " (" + p.unit + ")" : ""}${p.activity ? " · " + term(p.activity.replace(/^production:/, "")) : ""}`)));
  const ranges = segmented("series-range", [...Object.keys(RANGES), "custom"].map(r => [r, t(`series.range.${r}`)]), state.range,
    (value) => {
      if (value === "custom") { const [a, b] = window_(); state.from = a.toISOString(); state.to = b.toISOString(); }
      state.range = value;
      state.interval = DEFAULT_INTERVAL[value];
      paint();
      query();
    });
  const intervals = segmented("series-interval", INTERVALS.map(i => [i, t(`series.interval.${i}`)]), state.interval,
    (value) => { state.interval = value; paint(); query(); }, (value) => value === "raw" && to - from > RAW_LIMIT);
  const custom = state.range === "custom" ? el("div", {class: "custom-range"},
    el("label", {for: "series-from"}, t("series.from")),
    el("input", {type: "datetime-local", id: "series-from", value: localInput(from),
                 onchange: (e) => { state.from = new Date(e.target.value).toISOString(); paint(); query(); }}),
    el("label", {for: "series-to"}, t("series.to")),
    el("input", {type: "datetime-local", id: "series-to", value: localInput(to),
                 onchange: (e) => { state.to = new Date(e.target.value).toISOString(); paint(); query(); }})) : null;
  const exportLink = el("a", {href: "#", class: "button", id: "export-csv", title: t("series.export.hint"),
                              onclick: (e) => { e.preventDefault(); exportCsv(e.currentTarget); }},
    el("span", {"aria-hidden": "true"}, "⤓"), t("series.export"));
  const controls = el("div", {class: "card"},
    el("div", {class: "controls"},
      el("div", {class: "grow"}, el("label", {for: "series-device"}, t("series.device")), deviceSelect),
      el("div", {class: "grow"}, el("label", {for: "series-point"}, t("series.point")), pointSelect),
      el("div", {}, el("label", {}, t("series.range")), ranges),
      el("div", {}, el("label", {}, t("series.interval")), intervals),
      custom),
    el("div", {class: "controls-foot"},
      el("span", {class: "muted small"}, `${dateTime(from)} – ${dateTime(to)}`),
      el("div", {class: "head-tools"}, el("button", {type: "button", class: "ghost", onclick: () => query()}, t("common.refresh")),
         exportLink)));

  const result = state.result;
  const unit = result ? result.unit : (pointInfo() || {}).unit || "";
  const values = result ? result.points.filter(p => p.value !== null) : [];
  const stats = el("div", {class: "grid stats", id: "series-stats"}, statCard("count", values.length, 0, ""),
    ...["min", "max", "mean", "last"].map(name => statCard(name, figure(values, name), decimalsFor(figure(values, "max")), unit)));

  const chartCard = el("div", {class: "card"},
    el("div", {class: "card-head"}, el("h2", {}, `${state.device} · ${state.point}`),
       el("span", {class: "muted", id: "series-status"}, result ? `${result.kind} · ${t(`series.interval.${result.interval}`)}` : "")),
    state.error ? errorBox(state.error) : null,
    result && !values.length ? el("div", {class: "empty"}, t("common.noData")) : null,
    state.echarts ? el("div", {class: "chart tall", id: "series-chart", hidden: !values.length}) : null);
  const table = el("details", {class: "card", id: "series-table-card", open: !state.echarts && values.length > 0},
    el("summary", {}, `${t("series.table")} (${result ? result.points.length : 0})`), seriesTable(result));

  main.replaceChildren(...[head, state.echarts ? null : el("div", {class: "notice info"}, t("common.chartsOff")),
                          controls, stats, chartCard, table].filter(Boolean));
  state.chart = null;
  if (state.echarts && values.length) drawChart(result);
}

function figure(values, name) {
  if (!values.length) return null;
  const list = values.map(p => p.value);
  if (name === "min") return Math.min(...values.map(p => p.min ?? p.value));
  if (name === "max") return Math.max(...values.map(p => p.max ?? p.value));
  if (name === "mean") return list.reduce((a, b) => a + b, 0) / list.length;
  return list[list.length - 1];
}

function statCard(name, value, decimals, unit) {
  return el("div", {class: "card stat"}, el("div", {class: "label"}, t(`series.stats.${name}`)),
    el("div", {class: "value"}, numberEl("span", value, decimals, {id: `stat-${name}`}),
       unit ? el("span", {class: "unit"}, unit) : null));
}

function seriesTable(result) {
  if (!result || !result.points.length) return el("div", {class: "empty"}, t("common.noData"));
  const rows = result.points.slice(-TABLE_ROWS).reverse();
  const bucketed = result.interval !== "raw";
  const decimals = decimalsFor(figure(result.points.filter(p => p.value !== null), "max"));
  return el("div", {class: "table-scroll"}, el("table", {id: "series-table"},
    el("thead", {}, el("tr", {}, el("th", {}, t("common.time")), el("th", {class: "num"}, `${t("common.value")} (${result.unit})`),
       bucketed ? el("th", {class: "num"}, t("series.stats.min")) : null, bucketed ? el("th", {class: "num"}, t("series.stats.max")) : null,
       bucketed ? el("th", {class: "num"}, t("series.stats.count")) : null, el("th", {}, t("common.quality")))),
    el("tbody", {}, rows.map(p => el("tr", {},
      el("td", {}, dateTime(p.ts)), numberEl("td", p.value, decimals),
      bucketed ? numberEl("td", p.min, decimals) : null, bucketed ? numberEl("td", p.max, decimals) : null,
      bucketed ? numberEl("td", p.count, 0) : null, el("td", {class: `q-${p.quality}`}, t(`quality.${p.quality}`)))))));
}

function drawChart(result) {
  const node = document.getElementById("series-chart");
  const chart = makeChart(state.echarts, node);
  state.chart = chart;
  const points = result.points.filter(p => p.value !== null);
  const line = points.map(p => [p.ts, p.value]);
  const series = [];
  if (result.interval !== "raw" && result.kind !== "counter") {
    series.push({type: "line", name: "min", data: points.map(p => [p.ts, p.min]), stack: "band", symbol: "none",
                 lineStyle: {opacity: 0}, tooltip: {show: false}});
    series.push({type: "line", name: t("series.band"), data: points.map(p => [p.ts, p.max - p.min]), stack: "band",
                 symbol: "none", lineStyle: {opacity: 0}, areaStyle: {color: "rgba(14,143,110,.14)"}, tooltip: {show: false}});
  }
  series.push({type: "line", name: result.point, data: line, showSymbol: line.length < 60, symbolSize: 5,
               sampling: "lttb", lineStyle: {width: 2, color: "#0e8f6e"}, itemStyle: {color: "#0e8f6e"}});
  const bad = result.points.filter(p => p.quality === "bad").map(p => [p.ts, p.value ?? 0]);
  if (bad.length) series.push({type: "scatter", name: t("quality.bad"), data: bad, symbolSize: 7, itemStyle: {color: "#e0565b"}});
  const decimals = decimalsFor(figure(points, "max"));
  chart.setOption(Object.assign({}, base, {
    grid: {left: 64, right: 24, top: 24, bottom: 70},
    tooltip: {trigger: "axis", valueFormatter: (v) => `${num(v, decimals)} ${result.unit}`},
    xAxis: {type: "time", axisLine: {lineStyle: {color: "#c9d3da"}}, axisLabel: {color: "#7a8894", hideOverlap: true}},
    yAxis: {type: "value", scale: true, name: result.unit, nameTextStyle: {color: "#7a8894"},
            splitLine: {lineStyle: {color: "#eef2f5"}}, axisLabel: {color: "#7a8894"}},
    dataZoom: [{type: "inside"}, {type: "slider", height: 22, bottom: 14, borderColor: "#e4e9ed",
                                  fillerColor: "rgba(14,143,110,.12)", handleStyle: {color: "#0e8f6e"}}],
    series,
  }), true);
}

function paintBusy(busy) {
  const status = document.getElementById("series-status");
  if (status && busy) status.textContent = t("common.loading");
}

async function exportCsv(link) {
  const [from, to] = window_();
  // the export is bucketed: hourly for raw views, daily for months, else the chosen interval
  const interval = state.interval === "raw" ? "1h" : state.interval === "1mo" ? "1d" : state.interval;
  const params = new URLSearchParams({device: state.device, point: state.point, start: from.toISOString(),
                                      end: to.toISOString(), interval,
                                      tz: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"});
  const label = link.lastChild.textContent;
  link.lastChild.textContent = t("series.exporting");
  try {
    const response = await api(`/export/series.csv?${params}`, {headers: {"Accept": "text/csv"}});
    if (!response.ok) throw new Error(await message(response));
    const name = (/filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "") || [])[1] || "series.csv";
    const url = URL.createObjectURL(await response.blob());
    const save = el("a", {href: url, download: name, hidden: true});
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    if (state) state.main.prepend(errorBox(error));
  } finally {
    link.lastChild.textContent = label;
  }
}
