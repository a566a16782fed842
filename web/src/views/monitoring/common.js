// What the monitoring pages share: energy types and their units, the default year, the regions the caller may
// watch, and the words of anomaly reminders.
import {ref} from "vue";
import * as monitoring from "../../api/monitoring.js";
import {num} from "../../format.js";
import {t} from "../../i18n.js";

export const ENERGY = ["electricity", "coal", "oil", "natural_gas", "heat", "other"];
// the storage unit of each energy type as the API answers it (docs/monitoring.md)
export const ENERGY_UNIT = {electricity: "MWh", coal: "t", oil: "t", natural_gas: "10⁴Nm³", heat: "GJ", other: "tce"};

/** The year a page opens on: the last full year. */
export function defaultYear() { return new Date().getFullYear() - 1; }

/** The years a year picker offers, newest first. */
export function yearChoices() {
  const last = new Date().getFullYear();
  return Array.from({length: last - 2015 + 1}, (_, i) => last - i);
}

/** Regions the caller may watch (in scope), in tree order, with their depth; and the top one. */
export function useRegions() {
  const list = ref([]);
  const top = ref(null);
  const loaded = monitoring.regions().then((regions) => {
    const inScope = regions.filter(r => r.in_scope);
    list.value = inScope.map(r => ({...r, depth: r.level - 1}));
    top.value = inScope.length ? inScope.reduce((a, b) => (b.level < a.level ? b : a)).code : null;
    return list.value;
  });
  return {list, top, loaded};
}

/** A change as "+12.3%" / "−4.0%" ("—" for none): the API's changes are fractions. */
export function changeText(value) {
  if (value === null || value === undefined) return t("common.none");
  const sign = value > 0 ? "+" : value < 0 ? "−" : "";
  return `${sign}${num(Math.abs(value) * 100, 1)}%`;
}

/** The words of an anomaly reminder from its rule and figures, in the page's language. */
export function anomalyText(a) {
  const month = String(a.month).slice(0, 7);
  if (a.rule === "jump") {
    return t("monitoring.anomaly.jumpText", {value: num(a.value, 1), reference: num(a.reference, 1),
                                              change: changeText(a.reference ? a.value / a.reference - 1 : null)});
  }
  if (a.rule === "missing_month") return t("monitoring.anomaly.missingText", {month});
  if (a.rule === "intensity_outlier") {
    return t("monitoring.anomaly.outlierText", {value: num(a.value, 3), reference: num(a.reference, 3)});
  }
  return a.detail;
}
