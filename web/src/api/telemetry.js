// Series, live values and exports (api/telemetry/).
import {ApiError, apiUrl, getJSON, message, request} from "./http.js";

/** GET /series in columns (a smaller answer, quicker to make), handed back as rows in `points` as the default
 *  format has them; an answer that comes as rows (interval=1mo) stays as it is. */
export async function series({device, point, start, end, interval, tz}) {
  const answer = await getJSON("/series", {device, point, start, end, interval, tz, format: "columns"});
  const columns = answer.columns;
  if (!columns) return answer;
  const fields = Object.keys(columns).filter(f => f !== "quality_counts");
  const counts = columns.quality_counts;
  answer.points = columns.ts.map((_, i) => {
    const row = {};
    for (const f of fields) row[f] = columns[f][i];
    if (counts) row.quality_counts = {good: counts.good[i], uncertain: counts.uncertain[i], bad: counts.bad[i]};
    return row;
  });
  delete answer.columns;
  return answer;
}

/** POST /live/ticket: a single-use ticket valid 60 s for the live stream. */
export async function liveTicket() {
  const response = await request("/live/ticket", {method: "POST"});
  if (!response.ok) throw new ApiError(response.status, await message(response));
  return (await response.json()).ticket;
}

/** The address of GET /live/stream for `ticket` (bearer tokens never go into URLs; tickets do). */
export function liveStreamUrl({ticket, site}) { return apiUrl("/live/stream", site ? {ticket, site} : {ticket}); }

/** GET /export/series.csv: {name, blob} of the file the API names. */
export async function exportSeriesCsv({device, point, start, end, interval, tz}) {
  const response = await request("/export/series.csv", {query: {device, point, start, end, interval, tz}, accept: "text/csv"});
  if (!response.ok) throw new ApiError(response.status, await message(response));
  const name = (/filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "") || [])[1] || "series.csv";
  return {name, blob: await response.blob()};
}
