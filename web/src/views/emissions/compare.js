// Month-to-date comparisons of a site: this month's tCO2 to date against the same span of last month (环比, MoM)
// and of this month last year (同比, YoY). Both questions use one cut time, so the columns describe one moment.
import {compare} from "../../api/emissions.js";

/** The calendar month (YYYY-MM) that `date` falls in, in time zone `tz`. */
export function monthIn(date, tz) {
  const parts = new Intl.DateTimeFormat("en-CA", {timeZone: tz, year: "numeric", month: "2-digit"}).formatToParts(date);
  const part = (type) => parts.find(p => p.type === type).value;
  return `${part("year")}-${part("month")}`;
}

/** {to, mom, yoy} as of now, or {to, error} when the API refused. */
export async function loadComparison(site, tz) {
  const now = new Date();
  const params = {site, period: monthIn(now, tz), tz, to: now.toISOString()};
  try {
    const [mom, yoy] = await Promise.all(["mom", "yoy"].map(basis => compare({...params, basis})));
    return {to: params.to, mom, yoy};
  } catch (error) {
    return {to: params.to, error};
  }
}

/** The panel's rows: one per process (largest first; a process missing from one answer had 0 tCO2 in both of
 *  that answer's periods), as [key, {mom, yoy}]. */
export function processRows({mom, yoy}) {
  const processes = new Map();
  for (const [basis, answer] of [["mom", mom], ["yoy", yoy]]) {
    for (const p of answer.by_process) {
      const key = p.process ?? "";
      processes.set(key, {...(processes.get(key) || {}), [basis]: p.tco2});
    }
  }
  return [...processes.entries()].sort((a, b) =>
    ((b[1].mom || b[1].yoy).current - (a[1].mom || a[1].yoy).current) || a[0].localeCompare(b[0]));
}

// a change against a base: its relative size, or why there is none (no base: the API's note)
function change(answer) {
  const rel = answer ? answer.relative_change : null;
  return rel === null || rel === undefined ? {rel: null, note: answer ? answer.note : null} : {rel};
}

/** One row's five cells by column (current, mom, mom-change, yoy, yoy-change); a process missing from one answer
 *  had 0 tCO2 in both of that answer's periods. */
export function compareCells(mom, yoy) {
  return {
    current: {col: "current", value: mom ? mom.current : yoy.current},
    mom: {col: "mom", value: mom ? mom.previous : 0},
    "mom-change": {col: "mom-change", change: change(mom)},
    yoy: {col: "yoy", value: yoy ? yoy.previous : 0},
    "yoy-change": {col: "yoy-change", change: change(yoy)},
  };
}
