// The page's only way to the server: the public API under /api, as curl would use it.
// Every request carries the API key of this browser tab, if one was given; a 401 asks for one
// and retries. Answers are the API's envelope: data, or an ApiError carrying its fields.

const KEY = "inventory.apiKey";

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.error = body.error || "HTTP_ERROR";
    this.field = body.field || null;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// The key dialog is a promise shared by every request that met a 401 at the same time.
let asking = null;

export function askForKey(reason) {
  if (asking) return asking;
  const dialog = document.getElementById("key-dialog");
  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  document.getElementById("key-reason").textContent = reason;
  input.value = "";
  asking = new Promise((resolve) => {
    const done = (ok) => {
      form.removeEventListener("submit", submit);
      dialog.removeEventListener("cancel", cancel);
      document.getElementById("key-cancel").removeEventListener("click", cancel);
      dialog.close();
      asking = null;
      resolve(ok);
    };
    const submit = (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY, key);
      done(true);
    };
    const cancel = (e) => {
      e.preventDefault();
      done(false);
    };
    form.addEventListener("submit", submit);
    dialog.addEventListener("cancel", cancel);
    document.getElementById("key-cancel").addEventListener("click", cancel);
    dialog.showModal();
    input.focus();
  });
  return asking;
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

// Prices are JSON numbers written with their exact scale (1500.00). JSON.parse would turn
// them into doubles and drop that scale, so each price token becomes the string it is before
// parsing. Inside a JSON string a quote is escaped, so `"price":` followed by a number can
// only be a key and its value.
const PRICE = /([{,]\s*"price"\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

export function parseJson(text) {
  return JSON.parse(text.replace(PRICE, '$1"$2"'));
}

// One request. `key` is the write's Idempotency-Key, `ifMatch` a version for If-Match;
// `whole`: the answer is not an envelope (/openapi.json), so `data` is all of it.
// Resolves to { data, message, etag, replayed }; rejects with ApiError (status 0: no answer).
export async function request(method, path, { body, key, ifMatch, whole = false } = {}) {
  for (;;) {
    const headers = { Accept: "application/json", ...authHeaders() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (key) headers["Idempotency-Key"] = key;
    if (ifMatch !== undefined) headers["If-Match"] = `"${ifMatch}"`;
    let res;
    let text;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
      text = await res.text();
    } catch (e) {
      throw new ApiError(0, {
        error: "NETWORK_ERROR",
        message: `the server did not answer (${e.message}); sending again is safe`,
      });
    }
    let envelope;
    try {
      envelope = text ? parseJson(text) : {};
    } catch {
      envelope = { message: `HTTP ${res.status}: the answer is not JSON` };
    }
    if (res.status === 401) {
      const reason = apiKey()
        ? `The key was refused: ${envelope.message || "unauthorized"}`
        : `This server needs an API key: ${envelope.message || "unauthorized"}`;
      if (apiKey()) forgetKey();
      if (await askForKey(reason)) continue;
      throw new ApiError(401, envelope);
    }
    if (!res.ok) throw new ApiError(res.status, envelope);
    const etag = res.headers.get("ETag");
    return {
      data: whole ? envelope : envelope.data,
      message: envelope.message,
      version: etag ? Number(etag.replace(/^W\//, "").replaceAll('"', "")) : null,
      replayed: res.headers.get("Idempotent-Replayed") === "true",
    };
  }
}

export const get = (path) => request("GET", path);

// A random (v4) UUID. crypto.randomUUID exists only in secure contexts, and the dashboard may
// be opened over plain HTTP on a LAN address; getRandomValues exists everywhere.
export function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "" && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
