// What the pages share about charts: the on-demand loader, the palette and the common option parts.
import {shallowRef} from "vue";

export const PALETTE = ["#0e8f6e", "#2f6fde", "#f0a431", "#8a5cd6", "#e0565b", "#25a9c4", "#7c8a99", "#b3823d"];
const FONT = 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
let loading = null;

/** {VChart, graphic} of the chart chunk, loaded once; null when it cannot be loaded. */
export function loadCharts() {
  loading = loading || import("./charts.js").catch(() => { loading = null; return null; });
  return loading;
}

/** A ref that holds the chart module once loaded (null until then, and for good when it failed). */
export function useCharts() {
  const charts = shallowRef(undefined);
  loadCharts().then((module) => { charts.value = module; });
  return charts;
}

export const base = {
  color: PALETTE,
  textStyle: {fontFamily: FONT, color: "#33424f"},
  animationDuration: 400,
};

/** A doughnut with the total in the middle. */
export function doughnut(items, {unit, total, totalLabel, format}) {
  return {
    ...base,
    tooltip: {trigger: "item", valueFormatter: (v) => `${format(v)} ${unit}`},
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
      data: items.map(({name, value}) => ({name, value})),
    }],
  };
}
