// The forecast's suggestions come from documented rules (carbon_domain/analysis.py SUGGESTION_RULES) as a rule
// and its figures; the page words them in the reader's language from the figures, formatted here.
import {t} from "../../i18n.js";
import {num, pct} from "../../format.js";

const FRACTIONS = new Set(["growth", "needed", "offset"]);
const TONNES = new Set(["peak_co2", "contribution", "effect"]);

function shown(key, value, area) {
  if (FRACTIONS.has(key)) return pct(value * 100);
  if (TONNES.has(key)) return num(value, 0);
  if (key === "factor") return t(`${area}.factor.${value}`);
  return String(value);
}

/** The suggestion in words: its rule's text with its figures filled in. `area` holds the rule texts and factor
 *  names (`<area>.suggestion.<rule>`, `<area>.factor.<name>`): the region's, or the enterprise's wording of the
 *  same rules. */
export function suggestionText({rule, params}, area = "analysis") {
  return t(`${area}.suggestion.${rule}`, Object.fromEntries(Object.entries(params).map(([k, v]) => [k, shown(k, v, area)])));
}
