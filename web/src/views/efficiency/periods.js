// The 碳效码 periods as the API names them: a calendar year ("2025") or a rolling 12 months ending at a month
// ("2024-07..2025-06"), and their words on the page.

/** True for a rolling 12 months' label. */
export function isRolling(period) { return Boolean(period) && period.includes(".."); }

/** The rolling 12 months ending at `end` ("2025-06" → "2024-07..2025-06"). */
export function rollingLabel(end) {
  const [year, month] = end.split("-").map(Number);
  const first = year * 12 + (month - 1) - 11;
  return `${String(Math.floor(first / 12)).padStart(4, "0")}-${String((first % 12) + 1).padStart(2, "0")}..${end}`;
}

/** The period in words: "2025 年" / "2024-07 至 2025-06（滚动 12 个月）". */
export function periodText(period, t) {
  if (!period) return "";
  if (!isRolling(period)) return t("efficiency.periodYear", {year: period});
  const [first, last] = period.split("..");
  return t("efficiency.periodRolling", {first, last});
}
