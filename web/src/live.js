// The live stream: a single-use ticket (POST /live/ticket, with the bearer header) opens an EventSource, which
// cannot send headers itself. On failure it asks for a new ticket with growing pauses.
import {liveStreamUrl, liveTicket} from "./api/telemetry.js";

export class LiveStream {
  /** onValues({values, power, at}) for each update; onState("connecting" | "live" | "offline"). */
  constructor({site, onValues, onState}) {
    this.site = site;
    this.onValues = onValues;
    this.onState = onState || (() => {});
    this.source = null;
    this.retry = null;
    this.pause = 2000;
    this.closed = false;
  }

  async open() {
    if (this.closed) return;
    this.onState("connecting");
    let ticket;
    try {
      ticket = await liveTicket();
    } catch {
      this.later();
      return;
    }
    if (this.closed) return;
    const source = new EventSource(liveStreamUrl({ticket, site: this.site}));
    this.source = source;
    source.addEventListener("open", () => { this.pause = 2000; this.onState("live"); });
    source.addEventListener("values", (event) => this.onValues(JSON.parse(event.data)));
    source.addEventListener("end", () => { source.close(); this.later(500); });
    source.addEventListener("error", () => {
      // the ticket is spent: the browser's own retry with the same URL would be refused, so start over
      source.close();
      this.later();
    });
  }

  later(pause = null) {
    if (this.closed) return;
    this.onState("offline");
    clearTimeout(this.retry);
    const wait = pause ?? this.pause;
    this.pause = Math.min(this.pause * 2, 30000);
    this.retry = setTimeout(() => this.open(), wait);
  }

  close() {
    this.closed = true;
    clearTimeout(this.retry);
    if (this.source) this.source.close();
  }
}
