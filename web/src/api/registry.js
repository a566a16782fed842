// Enterprises, sites, devices and gateways (api/registry/).
import {download, getJSON, send, whenTokenChanges} from "./http.js";

let sitesPromise = null;
whenTokenChanges(() => { sitesPromise = null; });

function sitesBody() {
  sitesPromise = sitesPromise || getJSON("/sites").catch((e) => { sitesPromise = null; throw e; });
  return sitesPromise;
}

/** GET /sites: the sites the caller may see, asked once per session. */
export async function sites() { return (await sitesBody()).sites; }

/** GET /sites `default_site`: the site the dashboard opens on (the running demo scenario's), or null. */
export async function defaultSite() { return (await sitesBody()).default_site || null; }

/** GET /devices: devices with their points. */
export async function devices() { return (await getJSON("/devices")).devices; }

/** GET /devices/health: devices and gateways with status and readings by quality over `hours`. */
export function devicesHealth({hours}) { return getJSON("/devices/health", {hours}); }

/** GET /gateways: gateways with their site, registry status, certificate expiry, first and last contact and devices. */
export async function gateways() { return (await getJSON("/gateways")).gateways; }

/** POST /gateways: register a gateway ('gateway_registry'); {gateway, password (password gateways, shown once), acl}. */
export function addGateway({gateway_id, site_id, auth}) {
  return send("/gateways", {json: {gateway_id, site_id: site_id || null, auth}});
}

/** POST /gateways/{id}/revoke: ingest refuses its data from now on; {gateway, acl}. */
export function revokeGateway(gatewayId) { return send(`/gateways/${encodeURIComponent(gatewayId)}/revoke`); }

/** GET /gateways/{id}/certificate: {name, blob} of the zip with ca.crt, <id>.crt and <id>.key. */
export function gatewayCertificate(gatewayId) {
  return download(`/gateways/${encodeURIComponent(gatewayId)}/certificate`,
                  {accept: "application/zip", fallback: `${gatewayId}-certificate.zip`});
}

/** PUT /devices/{id}/gateway: bind the device to another gateway (administrators); {before, after}. */
export function moveDevice(deviceId, {gateway_id}) {
  return send(`/devices/${encodeURIComponent(deviceId)}/gateway`, {method: "PUT", json: {gateway_id}});
}

function pointPath(deviceId, point) { return `/devices/${encodeURIComponent(deviceId)}/points/${encodeURIComponent(point)}`; }

/** GET /devices/{id}/points/{point}/range: the limits out_of_range checks, and a counter's rise limit. */
export function pointRange(deviceId, point) { return getJSON(`${pointPath(deviceId, point)}/range`); }

/** PUT .../range: set the limits by hand (in the point's stored unit; null for no limit on that side). */
export function setPointRange(deviceId, point, {low, high}) {
  return send(`${pointPath(deviceId, point)}/range`, {method: "PUT", json: {low, high}});
}

/** DELETE .../range: back to the device profile's range. */
export function resetPointRange(deviceId, point) { return send(`${pointPath(deviceId, point)}/range`, {method: "DELETE"}); }

/** PUT .../rise-limit: the most a counter may rise in an hour. */
export function setRiseLimit(deviceId, point, {max_rise_per_h}) {
  return send(`${pointPath(deviceId, point)}/rise-limit`, {method: "PUT", json: {max_rise_per_h}});
}
