// A plant's energy and CO2: the overview and month-to-date comparisons (api/emissions/).
import {getJSON} from "./http.js";

/** GET /overview: live power, today's CO2 by process and source, intensity and alarms of `site`. */
export function overview({site, tz}) { return getJSON("/overview", {site, tz}); }

/** GET /emissions/compare: `period` to `to` against the base of `basis` (mom or yoy). */
export function compare({site, period, tz, to, basis}) {
  return getJSON("/emissions/compare", {site, period, tz, to, basis});
}

/** GET /emissions: tCO2 of `site` by source and bucket (1h: UTC hours; 1d: local days of `tz`) from `start` to `end`. */
export function emissions({site, start, end, interval, tz}) {
  return getJSON("/emissions", {site, start, end, interval, tz});
}
