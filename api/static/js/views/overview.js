// Plant overview for an energy manager: live power, today's CO2 by process and by source, crude steel,
// intensity against the site's benchmark and active alarms. Figures come from GET /overview (every 30 s);
// live power from the live stream, with a 10 s poll of /overview while the stream is down.
import {getJSON, getSeries, visibleSites} from "../api.js";
import {base, disposeChart, doughnut, loadCharts, makeChart, PALETTE} from "../charts.js";
import {clock, dateTime, el, errorBox, num, numberEl, pct, setNumber} from "../format.js";
import {t, term} from "../i18n.js";
import {LiveStream} from "../live.js";
import {comparisonCard, loadComparison} from "./compare_panel.js";

const SITE_KEY = "carbonflow-site";
const REFRESH_MS = 30000;
const COMPARE_MS = 5 * 60 * 1000;  // month-to-date figures move slowly; two queries of a month each
const POLL_MS = 10000;
const TREND_MS = 60 * 60 * 1000;

let state = null;

function timezone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export async function start(main, ctx) {
  state = {main, ctx, data: null, compare: null, site: null, sites: [], trend: [], stream: null, timers: [], echarts: null,
           live: "connecting", onLang: () => paint()};
  window.addEventListener("langchange", state.onLang);
  main.append(el("div", {class: "empty"}, t("common.loading")));
  const mine = state;
  try {
    const [sites, echarts] = await Promise.all([visibleSites(), loadCharts()]);
    if (state !== mine) return;
    state.sites = sites;
    state.echarts = echarts;
    if (!sites.length) { main.replaceChildren(el("div", {class: "notice info"}, t("common.noSites"))); return; }
    const wanted = ctx.params.get("site") || localStorage.getItem(SITE_KEY);
    state.site = sites.some(s => s.site_id === wanted) ? wanted : sites[0].site_id;
    await Promise.all([load(), compare()]);
    if (state !== mine) return;
    await seedTrend();
    paint();
    connect();
    state.timers.push(setInterval(() => load().then(() => state === mine && paint()).catch(() => {}), REFRESH_MS));
    state.timers.push(setInterval(() => compare().then(() => state === mine && paint()), COMPARE_MS));
  } catch (error) {
    if (state === mine) main.replaceChildren(errorBox(error));
  }
}

export function stop() {
  if (!state) return;
  window.removeEventListener("langchange", state.onLang);
  if (state.stream) state.stream.close();
  for (const timer of state.timers) clearInterval(timer);
  state = null;
}

async function load() {
  state.data = await getJSON("/overview", {site: state.site, tz: timezone()});
}

async function compare() {
  const mine = state;
  const answer = await loadComparison(state.site, timezone());
  if (state === mine) state.compare = answer;
}

// the last hour of total power: 1-minute averages of each counted meter, added up per minute
async function seedTrend() {
  const power = state.data.power;
  state.trend = [];
  if (!power || !state.ctx.can("series")) return;
  const end = new Date();
  const startAt = new Date(end.getTime() - TREND_MS);
  const sums = new Map();
  const meters = power.points.filter(p => p.counted);
  const answers = await Promise.all(meters.map(p => getSeries({
    device: p.device, point: p.point, start: startAt.toISOString(), end: end.toISOString(), interval: "1m",
  }).catch(() => null)));
  answers.forEach((answer, i) => {
    if (!answer) return;
    const scale = {MW: 1000, W: 0.001}[answer.unit] ?? 1;
    for (const row of answer.points) {
      if (row.value === null) continue;
      const ts = new Date(row.ts).getTime();
      sums.set(ts, (sums.get(ts) || 0) + row.value * scale);
    }
  });
  state.trend = [...sums.entries()].sort((a, b) => a[0] - b[0]);
  if (power.total_kw !== null) state.trend.push([Date.now(), power.total_kw]);
}

function connect() {
  if (!state.ctx.can("live")) return;
  const mine = state;
  let poll = null;
  state.stream = new LiveStream({
    site: state.site,
    onState: (live) => {
      if (state !== mine) return;
      state.live = live;
      paintLive();
      if (live === "offline" && !poll) {
        poll = setInterval(() => load().then(() => state === mine && paint()).catch(() => {}), POLL_MS);
        state.timers.push(poll);
      } else if (live === "live" && poll) {
        clearInterval(poll);
        poll = null;
      }
    },
    onValues: (update) => {
      if (state !== mine || !update.power || !state.data) return;
      state.data.power = update.power;
      if (update.power.total_kw !== null) {
        state.trend.push([new Date(update.at).getTime(), update.power.total_kw]);
        const cut = Date.now() - TREND_MS;
        while (state.trend.length && state.trend[0][0] < cut) state.trend.shift();
      }
      paintPower();
    },
  });
  state.stream.open();
}

// --- painting ----------------------------------------------------------------------------------------------

function siteName() {
  const site = state.sites.find(s => s.site_id === state.site);
  return site ? site.name : state.site;
}

function paint() {
  if (!state || !state.data) return;
  const d = state.data;
  const main = state.main;
  const picker = el("select", {id: "site-picker", "aria-label": t("common.site"), onchange: (e) => {
    localStorage.setItem(SITE_KEY, e.target.value);
    location.hash = `#/overview?site=${encodeURIComponent(e.target.value)}`;
  }}, state.sites.map(s => el("option", {value: s.site_id, selected: s.site_id === state.site}, s.name)));
  const head = el("div", {class: "page-head"},
    el("div", {}, el("h1", {}, t("overview.title")),
       el("div", {class: "sub", id: "overview-sub"}, t("overview.subtitle", {site: `${siteName()} · ${d.enterprise_name}`, day: d.day, tz: d.timezone}))),
    el("div", {class: "head-tools"}, state.sites.length > 1 ? picker : null,
       el("span", {id: "live-pill", class: "pill"}, el("span", {class: "dot"}), el("span", {id: "live-text"}))));

  const kpis = el("div", {class: "grid kpis"},
    kpi("power", t("overview.power"), "kpi-power", "kW"),
    kpi("co2", t("overview.co2"), "kpi-co2", "tCO₂"),
    kpi("production", t("overview.production"), "kpi-production", "t"),
    kpi("intensity", t("overview.intensity"), "kpi-intensity", "tCO₂/t"),
    kpi("alarms", t("overview.alarms"), "kpi-alarms", ""));

  const byProcess = d.co2.by_process.map(p => [term(p.process), p.tco2, p.process ?? ""]);
  const bySource = d.co2.by_source.map(s => [term(s.source), s.tco2, s.source]);
  const charts = el("div", {class: "grid two"},
    breakdownCard(t("overview.byProcess"), "process", byProcess, t("common.process")),
    breakdownCard(t("overview.bySource"), "source", bySource, t("common.source")));

  const trendCard = el("div", {class: "card"},
    el("div", {class: "card-head"}, el("h2", {}, t("overview.trend")), el("span", {class: "muted"}, t("overview.trend.sub"))),
    state.echarts ? el("div", {class: "chart", id: "chart-trend"}) : null,
    el("h2", {class: "small muted", style: "margin:14px 0 4px"}, t("overview.meters")),
    el("table", {id: "meters"}));
  const benchCard = el("div", {class: "card"},
    el("div", {class: "card-head"}, el("h2", {}, t("overview.vsBenchmark")), el("span", {class: "muted"}, "tCO₂/t")),
    state.echarts ? el("div", {class: "chart", id: "chart-benchmark"}) : null,
    el("div", {class: "footnote", id: "benchmark-source"}));
  const lower = el("div", {class: "grid wide-narrow"}, trendCard, benchCard);

  const alarms = el("div", {class: "card", id: "alarms-card"},
    el("div", {class: "card-head"}, el("h2", {}, t("overview.alarmList"))), alarmTable(d.alarms));
  const factors = el("div", {class: "footnote", id: "factor-versions"},
    d.co2.factor_versions.length ? t("overview.factors", {list: d.co2.factor_versions.join(", ")}) : t("overview.factors.none"));

  main.replaceChildren(...[head, state.echarts ? null : el("div", {class: "notice info"}, t("common.chartsOff")),
                          kpis, charts, comparisonCard(state.compare), lower, alarms, factors].filter(Boolean));
  paintFigures();
  paintPower();
  paintLive();
  if (state.echarts) {
    donut("chart-process", byProcess);
    donut("chart-source", bySource);
    benchmarkChart();
  }
}

function kpi(kind, label, id, unit) {
  return el("div", {class: `card kpi ${kind}`, id: `${id}-card`},
    el("div", {class: "label"}, label),
    el("div", {class: "value"}, el("span", {id, class: "num", dataset: {value: ""}}, "—"),
       unit ? el("span", {class: "unit"}, unit) : null),
    el("div", {class: "foot", id: `${id}-foot`}));
}

function breakdownCard(title, kind, items, column) {
  const total = items.reduce((sum, item) => sum + item[1], 0);
  const rows = items.map(([name, value, key], i) => el("tr", {dataset: {[kind]: key}},
    el("td", {}, el("span", {class: "swatch", style: `background:${PALETTE[i % PALETTE.length]}`}), name),
    numberEl("td", value, 3),
    el("td", {class: "num muted"}, total > 0 ? pct(value / total * 100) : "—")));
  const table = el("table", {id: `table-${kind}`},
    el("thead", {}, el("tr", {}, el("th", {}, column), el("th", {class: "num"}, "tCO₂"), el("th", {class: "num"}, t("common.share")))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", {colspan: 3, class: "empty"}, t("overview.noCo2")))),
    rows.length ? el("tfoot", {}, el("tr", {class: "total"}, el("td", {}, t("common.total")), numberEl("td", total, 3),
                                       el("td", {class: "num muted"}, "100%"))) : null);
  return el("div", {class: "card"}, el("div", {class: "card-head"}, el("h2", {}, title)),
    el("div", {class: state.echarts && items.length ? "split" : ""},
       state.echarts && items.length ? el("div", {class: "chart", id: `chart-${kind}`}) : null, table));
}

function paintFigures() {
  const d = state.data;
  setNumber(document.getElementById("kpi-co2"), d.co2.total_tco2, 3);
  document.getElementById("kpi-co2-foot").textContent = t("overview.co2.sub", {n: d.co2.by_source.length});
  const production = d.intensity.production_t;
  setNumber(document.getElementById("kpi-production"), production, 1);
  document.getElementById("kpi-production-foot").textContent =
    production === null ? t("overview.production.none") : t("overview.production.sub");
  const intensity = d.intensity;
  setNumber(document.getElementById("kpi-intensity"), intensity.value, 3);
  const foot = document.getElementById("kpi-intensity-foot");
  foot.replaceChildren();
  if (intensity.benchmark) {
    foot.append(el("div", {id: "kpi-benchmark", class: "num", dataset: {value: intensity.benchmark.tco2_per_t}},
                   t("overview.benchmark", {value: num(intensity.benchmark.tco2_per_t, 3)})));
    if (intensity.vs_benchmark_pct !== null) {
      const above = intensity.vs_benchmark_pct > 0;
      foot.append(el("span", {class: `badge ${above ? "bad" : "good"}`, id: "kpi-vs-benchmark",
                              dataset: {value: intensity.vs_benchmark_pct}},
                     t(above ? "overview.benchmark.above" : "overview.benchmark.below", {pct: pct(intensity.vs_benchmark_pct)})));
    }
  } else {
    foot.textContent = t("overview.benchmark.none");
  }
  const alarms = document.getElementById("kpi-alarms");
  setNumber(alarms, d.alarms.length, 0);
  document.getElementById("kpi-alarms-card").classList.toggle("has", d.alarms.length > 0);
  document.getElementById("kpi-alarms-foot").textContent = d.alarms.length ? t("overview.alarms.sub") : t("overview.alarms.none");
  document.getElementById("benchmark-source").textContent =
    intensity.benchmark ? t("overview.benchmarkSource", {source: intensity.benchmark.source}) : t("overview.benchmark.none");
}

function paintPower() {
  if (!state || !state.data || !document.getElementById("kpi-power")) return;
  const power = state.data.power;
  const value = document.getElementById("kpi-power");
  const foot = document.getElementById("kpi-power-foot");
  if (!power) {
    setNumber(value, null, 1);
    foot.textContent = t("overview.power.na");
  } else {
    setNumber(value, power.total_kw, 1);
    foot.textContent = power.total_kw === null ? t("overview.power.none")
      : t("overview.power.sub", {n: power.points_counted, time: clock(power.as_of)});
  }
  const meters = document.getElementById("meters");
  const points = power ? power.points : [];
  meters.replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, t("common.device")), el("th", {}, t("common.process")),
                       el("th", {class: "num"}, "kW"), el("th", {}, t("common.quality")), el("th", {}, t("common.time")))),
    el("tbody", {}, points.length ? points.map(p => el("tr", {dataset: {device: p.device, point: p.point}},
      el("td", {}, `${p.device} · ${p.point}`), el("td", {}, term(p.process)), numberEl("td", p.value_kw, 1),
      el("td", {class: `q-${p.quality}`}, t(`quality.${p.quality}`)), el("td", {class: "muted"}, clock(p.ts))))
      : el("tr", {}, el("td", {colspan: 5, class: "empty"}, t("overview.power.none")))));
  trendChart();
}

function paintLive() {
  const pill = document.getElementById("live-pill");
  if (!pill || !state) return;
  const live = state.ctx.can("live") ? state.live : "offline";
  pill.className = `pill ${live === "live" ? "live" : live === "offline" ? "offline" : ""}`;
  document.getElementById("live-text").textContent =
    live === "live" ? t("live.connected") : live === "offline" ? t("live.polling") : t("live.connecting");
}

function alarmTable(alarms) {
  if (!alarms.length) return el("div", {class: "empty", id: "alarms-empty"}, t("overview.alarms.none"));
  const text = (a) => a.detail ?? a.message ?? a.text ?? a.description ?? a.rule ?? "";
  const since = (a) => a.raised_at ?? a.started_at ?? a.ts ?? a.created_at ?? null;
  const severity = (a) => a.severity ?? "warning";
  return el("table", {id: "alarms"},
    el("thead", {}, el("tr", {}, el("th", {}, t("overview.alarm.severity")), el("th", {}, t("common.device")),
                       el("th", {}, t("overview.alarm.message")), el("th", {}, t("overview.alarm.since")))),
    el("tbody", {}, alarms.map(a => el("tr", {dataset: {device: a.device_id ?? ""}},
      el("td", {}, el("span", {class: `severity ${severity(a)}`}, t(`severity.${severity(a)}`))),
      el("td", {}, [a.device_id, a.point].filter(Boolean).join(" · ") || "—"),
      el("td", {}, a.rule ? el("b", {}, `${a.rule} `) : null, el("span", {class: "muted"}, text(a))),
      el("td", {class: "muted"}, since(a) ? dateTime(since(a)) : "—")))));
}

// --- charts ------------------------------------------------------------------------------------------------

const charts = {};

function chartIn(id) {
  const node = document.getElementById(id);
  if (!node || !state.echarts) return null;
  const old = charts[id];
  if (old && !old.isDisposed() && old.getDom() === node) return old;
  if (old && !old.isDisposed()) disposeChart(old);
  charts[id] = makeChart(state.echarts, node);
  return charts[id];
}

function donut(id, items) {
  const chart = chartIn(id);
  if (!chart) return;
  const total = items.reduce((sum, item) => sum + item[1], 0);
  chart.setOption(doughnut(items, {unit: "tCO₂", total: num(total, 2), totalLabel: "tCO₂"}), true);
}

function trendChart() {
  const chart = chartIn("chart-trend");
  if (!chart) return;
  chart.setOption(Object.assign({}, base, {
    grid: {left: 56, right: 16, top: 16, bottom: 28},
    tooltip: {trigger: "axis", valueFormatter: (v) => `${num(v, 1)} kW`},
    xAxis: {type: "time", axisLine: {lineStyle: {color: "#c9d3da"}}, axisLabel: {color: "#7a8894", hideOverlap: true}},
    yAxis: {type: "value", scale: true, splitLine: {lineStyle: {color: "#eef2f5"}}, axisLabel: {color: "#7a8894"}},
    series: [{type: "line", name: t("overview.power"), data: state.trend, showSymbol: false, smooth: 0.25,
              lineStyle: {width: 2, color: "#2f6fde"},
              areaStyle: {color: new state.echarts.graphic.LinearGradient(0, 0, 0, 1, [
                {offset: 0, color: "rgba(47,111,222,.28)"}, {offset: 1, color: "rgba(47,111,222,0)"}])}}],
  }), true);
}

function benchmarkChart() {
  const chart = chartIn("chart-benchmark");
  if (!chart) return;
  const intensity = state.data.intensity;
  const bench = intensity.benchmark ? intensity.benchmark.tco2_per_t : null;
  const above = bench !== null && intensity.value !== null && intensity.value > bench;
  chart.setOption(Object.assign({}, base, {
    grid: {left: 86, right: 40, top: 20, bottom: 28},
    tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, valueFormatter: (v) => `${num(v, 3)} tCO₂/t`},
    xAxis: {type: "value", splitLine: {lineStyle: {color: "#eef2f5"}}, axisLabel: {color: "#7a8894"}},
    yAxis: {type: "category", data: [t("overview.vsBenchmark.benchmark"), t("overview.vsBenchmark.value")],
            axisLine: {lineStyle: {color: "#c9d3da"}}, axisTick: {show: false}, axisLabel: {color: "#33424f"}},
    series: [{type: "bar", barWidth: 26, label: {show: true, position: "right", formatter: (p) => num(p.value, 3)},
              data: [{value: bench, itemStyle: {color: "#b8c4cd", borderRadius: [0, 6, 6, 0]}},
                     {value: intensity.value, itemStyle: {color: above ? "#e0565b" : "#0e8f6e", borderRadius: [0, 6, 6, 0]}}]}],
  }), true);
}
