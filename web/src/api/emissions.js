// A plant's energy and CO2: the overview and month-to-date comparisons (api/emissions/).
import {getJSON} from "./http.js";

/** GET /overview: live power, today's CO2 by process and source, intensity and alarms of `site`. */
export function overview({site, tz}) { return getJSON("/overview", {site, tz}); }

/** GET /emissions/compare: `period` to `to` against the base of `basis` (mom or yoy). */
export function compare({site, period, tz, to, basis}) {
  return getJSON("/emissions/compare", {site, period, tz, to, basis});
}

/** GET /emissions/breakdown: tCO2 of `site` (optionally one `process`) over [start, end) by scope, source and process,
 *  per local day or month (`interval`) of `tz`, with the factor rows used. */
export function breakdown({site, process, start, end, interval, tz}) {
  return getJSON("/emissions/breakdown", {site, process, start, end, interval, tz});
}

/** GET /emissions/provenance: one source's figure over [start, end): factor rows, formula versions and its hours. */
export function provenance({site, process, source, start, end}) {
  return getJSON("/emissions/provenance", {site, process, source, start, end});
}

/** GET /emissions/provenance/hour: the intervals of one hour with their meter readings and the tCO2 recomputed. */
export function provenanceHour({site, process, source, hour}) {
  return getJSON("/emissions/provenance/hour", {site, process, source, hour});
}
