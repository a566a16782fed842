// ECharts, vendored by `make web` into /static/vendor; without it the views show tables only.
import {lang} from "./i18n.js";

export const PALETTE = ["#0e8f6e", "#2f6fde", "#f0a431", "#8a5cd6", "#e0565b", "#25a9c4", "#7c8a99", "#b3823d"];
const FONT = 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
let loading = null;

/** The echarts global, loading the bundle once; null when it is not there. */
export function loadCharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!loading) {
    loading = new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = "/static/vendor/echarts.min.js";
      script.onload = () => resolve(window.echarts || null);
      script.onerror = () => { script.remove(); resolve(null); };
      document.head.appendChild(script);
    });
  }
  return loading;
}

const charts = new Map();  // chart -> the ResizeObserver of its container

/** A chart in `container` (which must have a size); disposed with disposeChart() or disposeCharts(). */
export function makeChart(echarts, container) {
  const chart = echarts.init(container, null, {renderer: "canvas", locale: lang() === "zh" ? "ZH" : "EN"});
  const observer = new ResizeObserver(() => { if (!chart.isDisposed()) chart.resize(); });
  observer.observe(container);
  charts.set(chart, observer);
  return chart;
}

export function disposeChart(chart) {
  const observer = charts.get(chart);
  if (observer) observer.disconnect();
  chart.dispose();
  charts.delete(chart);
}

export function disposeCharts() {
  for (const chart of [...charts.keys()]) disposeChart(chart);
}

export const base = {
  color: PALETTE,
  textStyle: {fontFamily: FONT, color: "#33424f"},
  animationDuration: 400,
};

/** A doughnut with the total in the middle. */
export function doughnut(items, {unit, total, totalLabel}) {
  return Object.assign({}, base, {
    tooltip: {trigger: "item", valueFormatter: (v) => `${Number(v).toFixed(3)} ${unit}`},
    legend: {show: false},
    title: {
      text: total, subtext: totalLabel, left: "center", top: "38%",
      textStyle: {fontSize: 22, fontWeight: 600, color: "#1b2a36", fontFamily: FONT},
      subtextStyle: {fontSize: 12, color: "#6b7a86", fontFamily: FONT},
    },
    series: [{
      type: "pie", radius: ["58%", "82%"], center: ["50%", "50%"], avoidLabelOverlap: true,
      itemStyle: {borderColor: "#fff", borderWidth: 2, borderRadius: 4},
      label: {show: false}, emphasis: {scale: true, scaleSize: 4},
      data: items.map(([name, value]) => ({name, value})),
    }],
  });
}
