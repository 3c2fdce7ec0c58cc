// The change feed, live: GET /api/events with Accept: text/event-stream. It is read with
// fetch() and a stream reader rather than EventSource, because EventSource cannot send the
// Authorization header; so reconnecting, and sending Last-Event-ID when it does, is done here.

import { ApiError, apiKey, askForKey, authHeaders, forgetKey, get, parseJson } from "./api.js";

// The text/event-stream format as the HTML standard defines it: lines end in CRLF, LF or CR;
// a blank line dispatches the event gathered so far; `:` starts a comment; the last `id:`
// seen stays the last event id.
export class EventStreamParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.rest = "";
    this.data = [];
    this.type = "";
    this.lastId = null;
    this.retry = null;
  }

  push(chunk) {
    const text = this.rest + chunk;
    // A CR at the very end may be the first half of a CRLF split across chunks: keep it.
    const cut = text.endsWith("\r") ? text.length - 1 : text.length;
    const lines = text.slice(0, cut).split(/\r\n|\r|\n/);
    this.rest = lines.pop() + text.slice(cut);
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") {
      if (this.data.length) {
        this.onEvent({ type: this.type || "message", data: this.data.join("\n"), id: this.lastId });
      }
      this.data = [];
      this.type = "";
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.type = value;
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

async function firstAfter(after) {
  const { data } = await get(`/api/events?after=${after}&limit=1`);
  return data.movements.length ? data.movements[0].seq : null;
}

// The newest sequence number. The API pages the feed forward from a cursor and has no "latest"
// query, so this gallops forward and then bisects with one-movement pages: about 2·log2(n)
// small requests, instead of reading the whole ledger to find its end.
export async function newestSeq() {
  let lo = await firstAfter(0);
  if (lo === null) return 0;
  let step = 1;
  for (;;) {
    const s = await firstAfter(lo + step - 1);
    if (s === null) break;
    lo = s;
    step *= 2;
  }
  let hi = lo + step - 1; // nothing after hi, and lo exists
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const s = await firstAfter(mid);
    if (s === null) hi = mid;
    else lo = s;
  }
  return lo;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The server writes a comment every 10 s; a stream silent for this long is dead.
const STALL_MS = 30000;

// Follows the feed after sequence number `after`. `onMovements` gets each chunk's movements,
// oldest first, never one twice; `onStatus` gets "live", "reconnecting" or an error message.
// On reconnect the stream resumes after the last movement received, via Last-Event-ID.
export function follow({ after, onMovements, onStatus }) {
  let last = after;
  let retry = 1000;
  let stopped = false;
  let controller = null;
  let wasLive = false;

  async function once() {
    controller = new AbortController();
    const headers = {
      Accept: "text/event-stream",
      "Last-Event-ID": String(last),
      ...authHeaders(),
    };
    const res = await fetch("/api/events", { headers, signal: controller.signal, cache: "no-store" });
    if (!res.ok) {
      let body = {};
      try {
        body = parseJson(await res.text());
      } catch {
        body = { message: `HTTP ${res.status}` };
      }
      throw new ApiError(res.status, body);
    }
    onStatus("live");
    wasLive = true;
    let watchdog = setTimeout(() => controller.abort(), STALL_MS);
    const parser = new EventStreamParser(() => {});
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), STALL_MS);
        const batch = [];
        parser.onEvent = (event) => {
          if (event.type !== "movement") return;
          const m = JSON.parse(event.data);
          if (m.seq <= last) return;
          last = m.seq;
          batch.push(m);
        };
        parser.push(value);
        if (parser.retry !== null) retry = parser.retry;
        if (batch.length) onMovements(batch);
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  (async () => {
    let backoff = 0;
    while (!stopped) {
      try {
        await once();
        backoff = 0;
      } catch (e) {
        if (stopped) return;
        if (wasLive) backoff = 0;
        wasLive = false;
        if (e instanceof ApiError && e.status === 401) {
          if (apiKey()) forgetKey();
          if (await askForKey(`The live feed needs an API key: ${e.message}`)) continue;
          onStatus(`stopped: ${e.message}`);
          return;
        }
        // 503 (too many subscribers), 403 or a network error: wait longer each time.
        backoff = Math.min(30000, backoff ? backoff * 2 : retry);
        onStatus(`reconnecting in ${Math.round(backoff / 1000)} s: ${e.message || e}`);
        await sleep(backoff);
        continue;
      }
      if (stopped) return;
      onStatus("reconnecting");
      await sleep(retry);
    }
  })();

  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
    get last() {
      return last;
    },
  };
}
