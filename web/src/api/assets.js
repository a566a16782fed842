// An enterprise's carbon assets (api/assets/): allowances, holdings, the ledger, and the compliance position with
// its projection and trading cost.
import {download, getJSON, send} from "./http.js";

const path = (enterprise) => `/assets/${encodeURIComponent(enterprise)}`;

/** GET /assets/{e}/allowances: the allocations per year with their method, newest first. */
export async function allowances(enterprise) { return (await getJSON(`${path(enterprise)}/allowances`)).allowances; }

/** GET /assets/{e}/holdings: balances per instrument and vintage. */
export async function holdings(enterprise) { return (await getJSON(`${path(enterprise)}/holdings`)).holdings; }

/** GET /assets/{e}/ledger: every entry, oldest first. */
export async function ledger(enterprise) { return (await getJSON(`${path(enterprise)}/ledger`)).entries; }

/** GET /assets/{e}/allowances|ledger?format=csv|xlsx: {name, blob}. */
export function exportTable(enterprise, table, format) {
  return download(`${path(enterprise)}/${table}`, {query: {format}, accept: "*/*", fallback: `${table}.${format}`});
}

/** POST /assets/{e}/transactions: buy, sell, surrender or transfer. */
export function transact(enterprise, body) { return send(`${path(enterprise)}/transactions`, {json: body}); }

/** GET /assets/{e}/compliance/{year}: position, projection, and with scenarios ({name: price}) the trading cost
 *  and, with a current price, the strategy suggestion. */
export function compliance(enterprise, year, {offsetCap, scenarios = {}, currentPrice = null, monthsToDeadline = null}) {
  const query = new URLSearchParams({offset_cap: String(offsetCap)});
  Object.entries(scenarios).forEach(([name, price]) => query.append("scenario", `${name}:${price}`));
  if (currentPrice !== null && currentPrice !== "") query.set("current_price", String(currentPrice));
  if (monthsToDeadline !== null) query.set("months_to_deadline", String(monthsToDeadline));
  return getJSON(`${path(enterprise)}/compliance/${year}?${query}`);
}

/** GET /assets/deadlines: the compliance and trading deadlines that apply to the caller, soonest first. */
export async function deadlines() { return (await getJSON("/assets/deadlines")).deadlines; }

/** POST /assets/deadlines: a deadline of a region (government users: their own by default). */
export function addDeadline(body) { return send("/assets/deadlines", {json: body}); }

/** DELETE /assets/deadlines/{id}. */
export function deleteDeadline(id) { return send(`/assets/deadlines/${id}`, {method: "DELETE"}); }

/** POST /assets/alarms/check ('asset_alarms'): raise and clear the deficit and deadline alarms now; {day,
 *  deficits, deadlines, cleared, problems}. */
export function checkAlarms() { return send("/assets/alarms/check", {method: "POST"}); }
