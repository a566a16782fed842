// Enterprise analysis (GET /analysis/enterprise/...): the by-process LMDI and the enterprise forecast.
import {getJSON} from "./http.js";

/** GET /analysis/enterprise/lmdi: the site's CO2 change from `base` to `target` (years or months) by process. */
export function processLmdi({site, base, target, tz}) {
  return getJSON("/analysis/enterprise/lmdi", {site, base, target, tz});
}

/** GET /analysis/enterprise/forecast: monthly history, the year end and the scenarios' years with their peaks. */
export function forecast({site, tz, end_year, output_growth, output_step, intensity_change, factor_change}) {
  return getJSON("/analysis/enterprise/forecast",
                 {site, tz, end_year, output_growth, output_step, intensity_change, factor_change});
}
