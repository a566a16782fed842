// Enterprises, sites, devices and gateways (api/registry/).
import {getJSON, whenTokenChanges} from "./http.js";

let sitesPromise = null;
whenTokenChanges(() => { sitesPromise = null; });

/** GET /sites: the sites the caller may see, asked once per session. */
export function sites() {
  sitesPromise = sitesPromise || getJSON("/sites").then(body => body.sites).catch((e) => { sitesPromise = null; throw e; });
  return sitesPromise;
}

/** GET /devices: devices with their points. */
export async function devices() { return (await getJSON("/devices")).devices; }

/** GET /devices/health: devices and gateways with status and readings by quality over `hours`. */
export function devicesHealth({hours}) { return getJSON("/devices/health", {hours}); }
