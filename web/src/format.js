// Numbers and times as the pages show them.
import {locale, t} from "./i18n.js";

/** A number with a fixed count of decimals, grouped in thousands; "—" for none. */
export function num(value, decimals = 1) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return t("common.none");
  return Number(value).toLocaleString("en-US", {minimumFractionDigits: decimals, maximumFractionDigits: decimals});
}

/** A change with its sign always shown ("+12", "−3"; a true minus sign), `decimals` as `num`. */
export function signed(value, decimals = 0) {
  return `${value >= 0 ? "+" : "−"}${num(Math.abs(value), decimals)}`;
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

/** The exact value for a data-value attribute (tests and copy-paste read it): "" for none. */
export function exact(value) { return value ?? ""; }

/** The browser's IANA time zone. */
export function timezone() { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; }
