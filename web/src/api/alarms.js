// Alarms and implausible counter readings (api/alarms/).
import {getJSON, send} from "./http.js";

/** GET /alarms: newest first; state active | cleared | all, optionally of one site and one rule. */
export async function alarms({state, site, rule, limit = 1000}) {
  return (await getJSON("/alarms", {state, site: site || null, rule: rule || null, limit})).alarms;
}

/** POST /alarms/{id}/acknowledge: the alarm as it is now (acknowledging again keeps the first). */
export function acknowledge(alarmId) { return send(`/alarms/${alarmId}/acknowledge`); }

/** POST /alarms/{id}/clear: clear an active alarm by hand, saying why. */
export function clear(alarmId, {comment}) { return send(`/alarms/${alarmId}/clear`, {json: {comment}}); }

/** GET /implausible-readings: counter readings stored as bad (negative, or rising faster than the point's limit). */
export async function implausible({state, device_id, limit = 1000}) {
  return (await getJSON("/implausible-readings", {state: state || null, device_id: device_id || null, limit})).readings;
}

/** POST /implausible-readings/{id}/accept: accept a rise after checking the meter; {accepted, also_accepted, note}. */
export function acceptRise(flagId, {comment}) { return send(`/implausible-readings/${flagId}/accept`, {json: {comment}}); }
