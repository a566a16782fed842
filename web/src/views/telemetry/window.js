// The series explorer's choices: time ranges, intervals, and which interval fits a range.

export const RANGES = {"1h": 3600e3, "6h": 6 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3,
                       "1y": 365 * 86400e3};
export const DEFAULT_INTERVAL = {"1h": "raw", "6h": "1m", "24h": "1m", "7d": "1h", "30d": "1h", "1y": "1mo",
                                 "custom": "1h"};
export const INTERVALS = ["raw", "1m", "1h", "1d", "1mo"];
export const RAW_LIMIT = 7 * 86400e3;  // the API's limit of raw series

/** [from, to] Dates of a range name (or the custom span). */
export function windowOf(range, from, to, now = new Date()) {
  if (range === "custom" && from && to) return [new Date(from), new Date(to)];
  return [new Date(now.getTime() - (RANGES[range] || RANGES["24h"])), now];
}
