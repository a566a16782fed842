// Numbers, times and small DOM helpers shared by the views.
import {locale, t} from "./i18n.js";

/** A number with a fixed count of decimals, grouped in thousands; "—" for none. */
export function num(value, decimals = 1) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return t("common.none");
  return Number(value).toLocaleString("en-US", {minimumFractionDigits: decimals, maximumFractionDigits: decimals});
}

/** Decimals that keep about four significant digits for a value of this size. */
export function decimalsFor(value) {
  const size = Math.abs(Number(value) || 0);
  if (size >= 1000) return 0;
  if (size >= 100) return 1;
  if (size >= 10) return 2;
  return 3;
}

export function pct(value, decimals = 1) {
  return value === null || value === undefined ? t("common.none") : `${num(Math.abs(value), decimals)}%`;
}

export function clock(ts) {
  return ts ? new Date(ts).toLocaleTimeString(locale(), {hour12: false}) : t("common.none");
}

export function dateTime(ts) {
  return ts ? new Date(ts).toLocaleString(locale(), {hour12: false}) : t("common.none");
}

/** "12 s ago", "3 min ago"... */
export function ago(seconds) {
  if (seconds === null || seconds === undefined) return t("ago.never");
  if (seconds < 90) return t("ago.s", {n: Math.round(seconds)});
  if (seconds < 90 * 60) return t("ago.m", {n: Math.round(seconds / 60)});
  if (seconds < 36 * 3600) return t("ago.h", {n: Math.round(seconds / 3600)});
  return t("ago.d", {n: Math.round(seconds / 86400)});
}

/** document.createElement with attributes, properties and children in one call. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A number cell/element: formatted text, the exact value in data-value (tests and copy-paste read it). */
export function numberEl(tag, value, decimals, attrs = {}) {
  return el(tag, Object.assign({class: "num", dataset: {value: value ?? ""}}, attrs), num(value, decimals));
}

/** Set an element's number and keep its exact value in data-value. */
export function setNumber(node, value, decimals) {
  node.textContent = num(value, decimals);
  node.dataset.value = value ?? "";
}

export function errorBox(error) {
  return el("div", {class: "notice error", role: "alert"}, t("common.error", {message: error.message || String(error)}));
}
