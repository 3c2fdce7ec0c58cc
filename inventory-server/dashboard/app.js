// The dashboard's views (products with what needs attention, a product, locations, a new
// product), its forms, the scan field and the live feed panel. Everything goes through the
// public API (api.js); nothing here decides a business rule: the API validates, flags such as
// low stock come from it, and its errors are shown next to the fields they name.

import { ApiError, askForKey, apiKey, get, newKey, query, request } from "./api.js";
import { chart } from "./chart.js";
import { follow, newestSeq } from "./feed.js";
import { parseScan } from "./scan.js";
import { bodyFields, stockOperations } from "./schema.js";

const main = document.getElementById("main");
const $ = (sel, root = document) => root.querySelector(sel);

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  node.append(...children);
  return node;
}

const when = (iso) => new Date(iso).toLocaleString();
const short = (id) => id.slice(0, 8);

// ---- Product names, for the feed: filled by every view that reads products. ----

const products = new Map();
const pending = new Map();

function remember(p) {
  products.set(p.id, p);
  for (const a of document.querySelectorAll(`a[data-product="${p.id}"]`)) a.textContent = p.sku;
}

function productLabel(id) {
  const known = products.get(id);
  if (known) return known.sku;
  if (!pending.has(id)) {
    pending.set(
      id,
      get(`/api/products/${id}`)
        .then(({ data }) => remember(data.product))
        .catch(() => {}),
    );
  }
  return short(id);
}

// ---- Forms: one Idempotency-Key per submission, errors next to the fields they name. ----

// Stock errors that name no field are about the quantity asked for.
const QUANTITY_ERRORS = new Set(["INSUFFICIENT_STOCK", "INSUFFICIENT_RESERVED"]);

function clearErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) p.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    if (input.dataset.hint) input.setAttribute("aria-describedby", input.dataset.hint);
    else input.removeAttribute("aria-describedby");
  }
  const error = $(".form-error", form);
  error.hidden = true;
  error.textContent = "";
}

function showError(form, err) {
  let field = err.field;
  if (!field && QUANTITY_ERRORS.has(err.error)) field = form.elements.quantity ? "quantity" : null;
  const input = field ? form.elements[field] : null;
  const prefix = err.status === 403 ? "Not allowed: " : "";
  if (input instanceof HTMLElement) {
    const id = `${input.id}-err`;
    const p = h("p", { class: "field-error", id, text: prefix + err.message });
    input.closest(".field").appendChild(p);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", input.dataset.hint ? `${id} ${input.dataset.hint}` : id);
    input.focus();
    return;
  }
  const p = $(".form-error", form);
  p.textContent = prefix + err.message + (err.status === 0 ? "" : ` (${err.error})`);
  p.hidden = false;
}

function showOk(form, text) {
  const p = $(".form-ok", form);
  if (!p) return;
  p.textContent = text;
  p.hidden = false;
}

// `send(key)` performs the request. The key is made at the first submission and kept until
// the form is edited, so a double click, a retry after a lost answer or a second submission
// of the same values is a repeat the server applies once; editing the form makes a new one.
function bindForm(form, send, done) {
  let key = null;
  const answered = new Set();
  // Keys the server answered as a repeat: the two answers of a double submission may arrive in
  // either order, and whichever comes last must still say the repeat was not applied.
  const repeated = new Set();
  form.addEventListener("input", () => {
    key = null;
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    key ??= newKey();
    const mine = key;
    // Nothing on the form moves until the answer, so a second click lands where the first did.
    form.setAttribute("aria-busy", "true");
    try {
      const result = await send(mine);
      clearErrors(form);
      if (result.replayed) repeated.add(mine);
      const note = !repeated.has(mine)
        ? ""
        : answered.has(mine) || !result.replayed
          ? " A repeated submission was recognised and not applied again; edit the form to apply it again."
          : " This was a repeat of a submission already applied: nothing changed.";
      answered.add(mine);
      done(result, note);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      clearErrors(form);
      const status = $(".form-ok", form);
      if (status) status.hidden = true;
      showError(form, err);
    } finally {
      form.removeAttribute("aria-busy");
    }
  });
}

// Whole numbers a double holds exactly go as numbers; anything else as typed (a price keeps its
// digits), for the API to judge.
const wireValue = (f, v) => (f.kind === "int" && /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : v);

function formValues(form, fields) {
  const body = {};
  for (const f of fields) {
    const input = form.elements[f.name];
    if (f.kind === "bool") {
      if (input.checked) body[f.name] = true;
      continue;
    }
    const v = input.value.trim();
    if (v !== "") body[f.name] = wireValue(f, v);
  }
  return body;
}

// A labelled control. Its hint (the API's description of the field, after "Required." for a
// required one) is linked to it with aria-describedby.
function fieldRow(prefix, f) {
  const id = `${prefix}-${f.name}`;
  const words = [f.required ? "Required." : "", f.hint || ""].filter(Boolean).join(" ");
  const hintId = words ? `${id}-hint` : null;
  const hint = words ? h("p", { class: "hint", id: hintId, text: words }) : "";
  if (f.kind === "bool") {
    const box = h("input", { id, name: f.name, type: "checkbox", "aria-describedby": hintId, "data-hint": hintId });
    return h("div", { class: "field check" }, box, h("label", { for: id, text: f.label }), hint);
  }
  const input = h("input", {
    id,
    name: f.name,
    autocomplete: "off",
    spellcheck: "false",
    inputmode: { int: "numeric", decimal: "decimal" }[f.kind] ?? null,
    list: f.kind === "location" ? "location-names" : null,
    "aria-required": f.required ? "true" : null,
    "aria-describedby": hintId,
    "data-hint": hintId,
  });
  return h("div", { class: "field" }, h("label", { for: id, text: f.label }), input, hint);
}

// Fills `form` (a form of the page, holding its actions and messages) with the fields the
// document gives the body of `method` on `path`, before its actions. Resolves to those fields,
// or to null when the document could not be read (said in the form).
function buildForm(form, prefix, method, path) {
  return bodyFields(method, path).then(
    (fields) => {
      $(".actions", form).before(...fields.map((f) => fieldRow(prefix, f)));
      form.dataset.state = "ready";
      return fields;
    },
    (e) => {
      const error = $(".form-error", form);
      error.textContent = `This form's fields could not be read: ${e.message}`;
      error.hidden = false;
      return null;
    },
  );
}

// What an edit changes: each field whose value differs from `current`'s. A cleared whole
// number the API lets be null is null (none); any other cleared field is sent empty, for the
// API to judge.
function changedValues(form, fields, current) {
  const body = {};
  for (const f of fields) {
    const input = form.elements[f.name];
    if (f.kind === "bool") {
      if (input.checked !== Boolean(current[f.name])) body[f.name] = input.checked;
      continue;
    }
    const v = input.value.trim();
    if (v === String(current[f.name] ?? "")) continue;
    if (v === "") body[f.name] = f.kind === "int" && f.nullable ? null : "";
    else body[f.name] = wireValue(f, v);
  }
  return body;
}

function levelText(l) {
  return `${l.location}: on hand ${l.on_hand}, reserved ${l.reserved}, available ${l.available}`;
}

// ---- What needs attention: the API's low_stock, nothing available, reservations lapsing soon.

// How soon a lapsing reservation is flagged: a choice of this page, not a rule of the engine.
const EXPIRING_WITHIN = 15 * 60;

const FLAGS = {
  out: { text: "Out of stock", symbol: "✕" },
  low: { text: "Low stock", symbol: "▼" },
  expiring: { text: "Reservation expiring", symbol: "◔" },
};

// Each flag says what it is in words; its colour and symbol only repeat that.
function flag(kind) {
  const f = FLAGS[kind];
  return h("span", { class: `flag flag-${kind}`, "data-flag": kind }, h("span", { "aria-hidden": "true", text: `${f.symbol} ` }), f.text);
}

// The flags of a product's totals: out of stock when nothing is available, else the API's
// low_stock; `expiring` when one of its reservations lapses soon.
function flagsOf(totals, expiring) {
  const kinds = [];
  if (totals.available <= 0) kinds.push("out");
  else if (totals.low_stock) kinds.push("low");
  if (expiring) kinds.push("expiring");
  return kinds.map(flag);
}

function expiringSoon(limit = 100) {
  return get(`/api/reservations/expiring${query({ within: EXPIRING_WITHIN, limit })}`).then(({ data }) => data);
}

// ---- The live feed panel. Views subscribe to hear of movements. ----

const listeners = new Set();
const FEED_MAX = 50;
const feedList = document.getElementById("feed");
const feedStatus = document.getElementById("feed-status");

// Who and why, when the movement says: the reference (an order number), the actor (the API
// key's name) and the notes.
function provenance(m) {
  const parts = [];
  if (m.reference) parts.push(h("span", { class: "ref" }, "ref ", h("strong", { text: m.reference })));
  if (m.actor) parts.push(h("span", { class: "actor", text: `by ${m.actor}` }));
  if (m.notes) parts.push(h("span", { class: "notes", text: `“${m.notes}”` }));
  return parts;
}

function feedItem(m) {
  const who = provenance(m);
  return h(
    "li",
    { "data-seq": m.seq, "data-product-id": m.product_id },
    h("span", { class: `kind k-${m.type.toLowerCase()}`, text: m.type }),
    " ",
    h("a", { href: `#/product/${m.product_id}`, "data-product": m.product_id, text: productLabel(m.product_id) }),
    ` ${m.quantity} at ${m.location} → on hand ${m.on_hand_after}, reserved ${m.reserved_after} `,
    who.length ? h("span", { class: "provenance" }, ...who) : "",
    h("time", { datetime: m.created_at, text: new Date(m.created_at).toLocaleTimeString() }),
  );
}

function onMovements(batch) {
  const items = batch.map(feedItem).reverse();
  feedList.prepend(...items);
  while (feedList.children.length > FEED_MAX) feedList.lastElementChild.remove();
  for (const listen of listeners) listen(batch);
}

async function startFeed() {
  try {
    const head = await newestSeq();
    follow({
      after: Math.max(0, head - 20),
      onMovements,
      onStatus: (s) => {
        feedStatus.textContent = s === "live" ? "Live" : s;
        feedStatus.dataset.state = s === "live" ? "live" : "down";
      },
    });
  } catch (e) {
    feedStatus.textContent = `The feed is unavailable: ${e.message}`;
    setTimeout(startFeed, 5000);
  }
}

// ---- Views ----

function view(id) {
  const node = document.getElementById(id).content.cloneNode(true);
  main.replaceChildren(node);
  return main;
}

function hashParams() {
  const [, q = ""] = location.hash.split("?");
  return new URLSearchParams(q);
}

// The "needs attention" summary: low-stock products (the API's filter) and reservations
// lapsing soon, each a link to its product.
function attentionSummary(root) {
  const SHOWN = 10;
  // Looked up once: the view may be left while a read is under way.
  const [section, error, lowList, lowNone, lowMore, soonList, soonNone] = [
    "#attention", "#attention-error", "#attention-low", "#attention-low-none", "#attention-low-more",
    "#attention-expiring", "#attention-expiring-none",
  ].map((sel) => $(sel, root));
  $("#attention-expiring-title", root).textContent = `Reservations expiring within ${EXPIRING_WITHIN / 60} minutes`;
  async function lowItem(p) {
    const link = h("a", { href: `#/product/${p.id}`, "data-product": p.id, text: p.sku });
    const item = h("li", { "data-id": p.id }, link, ` ${p.name}`);
    try {
      const { data } = await get(`/api/products/${p.id}/inventory`);
      item.append(" ", ...flagsOf(data, false), ` available ${data.available}, reorder point ${p.reorder_point}`);
    } catch (e) {
      item.append(` (${e.message})`);
    }
    return item;
  }
  async function load() {
    let low;
    let expiring;
    try {
      [{ data: low }, expiring] = await Promise.all([get(`/api/products${query({ low_stock: true, limit: SHOWN + 1 })}`), expiringSoon(SHOWN)]);
    } catch (e) {
      error.textContent = `What needs attention could not be read: ${e.message}`;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    for (const p of low) remember(p);
    lowList.replaceChildren(...(await Promise.all(low.slice(0, SHOWN).map(lowItem))));
    lowNone.hidden = low.length > 0;
    lowMore.hidden = low.length <= SHOWN;
    soonList.replaceChildren(
      ...expiring.map((r) =>
        h(
          "li",
          { "data-id": r.product_id },
          h("a", { href: `#/product/${r.product_id}`, "data-product": r.product_id, text: productLabel(r.product_id) }),
          ` ${r.reference || "(unreferenced)"}: ${r.quantity} at ${r.location}, expires `,
          h("time", { datetime: r.expires_at, "data-expires": r.expires_at, title: when(r.expires_at), text: countdown(r.expires_at) }),
        ),
      ),
    );
    soonNone.hidden = expiring.length > 0;
    section.dataset.state = "ready";
  }
  return load;
}

function productsView() {
  const root = view("tpl-products");
  const params = hashParams();
  const state = {
    q: params.get("q") || "",
    low_stock: params.get("low_stock") === "true",
    limit: Number(params.get("limit")) || 25,
    offset: Number(params.get("offset")) || 0,
  };
  const form = $("#filters", root);
  form.elements.q.value = state.q;
  form.elements.low_stock.checked = state.low_stock;
  form.elements.limit.value = String(state.limit);
  const table = $("#products", root);
  const tbody = $("tbody", table);
  const rows = new Map();
  let expiring = new Set();
  let generation = 0;
  const summary = attentionSummary(root);

  function cell(row, col) {
    return row.querySelector(`[data-col="${col}"]`);
  }

  async function fill(id, row) {
    try {
      const { data } = await get(`/api/products/${id}/inventory`);
      for (const k of ["on_hand", "reserved", "available"]) cell(row, k).textContent = data[k];
      row.totals = data;
      showFlags(row);
      const p = products.get(id);
      cell(row, "detail").textContent = `Price ${p?.price ?? ""} · on hand ${data.on_hand} · reserved ${data.reserved}`;
    } catch (e) {
      cell(row, "available").textContent = e.message;
    }
  }

  function showFlags(row) {
    if (!row.totals) return;
    const flags = flagsOf(row.totals, expiring.has(row.dataset.id));
    cell(row, "flags").replaceChildren(...flags);
    row.dataset.attention = flags.map((f) => f.dataset.flag).join(" ");
  }

  async function loadExpiring() {
    try {
      expiring = new Set((await expiringSoon()).map((r) => r.product_id));
    } catch {
      expiring = new Set();
    }
    for (const row of rows.values()) showFlags(row);
  }

  async function load() {
    const mine = ++generation;
    history.replaceState(null, "", `#/${query({ ...state, offset: state.offset || null })}`);
    table.dataset.state = "loading";
    performance.clearMarks();
    performance.clearMeasures();
    performance.mark("products-load");
    let list;
    try {
      ({ data: list } = await get(`/api/products${query(state)}`));
    } catch (e) {
      if (mine !== generation) return;
      $("#products-error", root).textContent = e.message;
      $("#products-error", root).hidden = false;
      return;
    }
    if (mine !== generation) return;
    $("#products-error", root).hidden = true;
    // The render, from the data in hand to the table laid out, is measured for the tests.
    performance.mark("products-render-start");
    rows.clear();
    const built = list.map((p) => {
      remember(p);
      // Narrow screens hide the folding columns and show them in the name cell's detail line.
      const row = h(
        "tr",
        { "data-id": p.id },
        h("td", { "data-col": "sku" }, h("a", { href: `#/product/${p.id}`, text: p.sku })),
        h(
          "td",
          { "data-col": "name-cell" },
          h("span", { "data-col": "name", text: p.name }),
          h("span", { class: "flags", "data-col": "flags" }),
          h("span", { class: "fold-detail", "data-col": "detail" }),
        ),
        h("td", { class: "num fold", "data-col": "price", text: p.price }),
        h("td", { class: "num fold", "data-col": "on_hand", text: "…" }),
        h("td", { class: "num fold", "data-col": "reserved", text: "…" }),
        h("td", { class: "num", "data-col": "available", text: "…" }),
      );
      rows.set(p.id, row);
      return row;
    });
    tbody.replaceChildren(...built);
    void table.offsetHeight;
    performance.measure("products-render", "products-render-start");
    $("#products-empty", root).hidden = list.length > 0;
    $("#prev", root).disabled = state.offset === 0;
    $("#next", root).disabled = list.length < state.limit;
    $("#page", root).textContent = list.length
      ? `${state.offset + 1}–${state.offset + list.length}`
      : state.offset
        ? "No more products"
        : "";
    await Promise.all([...[...rows].map(([id, row]) => fill(id, row)), loadExpiring()]);
    if (mine !== generation) return;
    performance.measure("products-ready", "products-load");
    table.dataset.state = "ready";
  }

  let typing = null;
  form.addEventListener("input", (e) => {
    state.q = form.elements.q.value.trim();
    state.low_stock = form.elements.low_stock.checked;
    state.limit = Number(form.elements.limit.value);
    state.offset = 0;
    clearTimeout(typing);
    typing = setTimeout(load, e.target.name === "q" ? 150 : 0);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(typing);
    load();
  });
  $("#prev", root).addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - state.limit);
    load();
  });
  $("#next", root).addEventListener("click", () => {
    state.offset += state.limit;
    load();
  });

  // Movements arrive in bursts: the summary and the expiring flags are read once per burst.
  let soon = null;
  const listen = (batch) => {
    for (const id of new Set(batch.map((m) => m.product_id))) {
      const row = rows.get(id);
      if (row) fill(id, row);
    }
    soon ??= setTimeout(() => {
      soon = null;
      summary();
      loadExpiring();
    }, 100);
  };
  // Countdowns in the summary tick; a lapsed one is released by the server, so read again.
  const ticker = setInterval(() => {
    let lapsed = false;
    for (const t of root.querySelectorAll("[data-expires]")) {
      t.textContent = countdown(t.dataset.expires);
      if (t.textContent === "expired") lapsed = true;
    }
    if (lapsed) listen([]);
  }, 1000);
  listeners.add(listen);
  summary();
  load();
  return () => {
    clearInterval(ticker);
    clearTimeout(soon);
    listeners.delete(listen);
  };
}

function countdown(iso) {
  const left = Math.ceil((new Date(iso) - Date.now()) / 1000);
  if (left <= 0) return "expired";
  const m = Math.floor(left / 60);
  const s = left % 60;
  return m >= 60 ? `in ${Math.floor(m / 60)} h ${m % 60} min` : m ? `in ${m} min ${s} s` : `in ${s} s`;
}

function productView(id) {
  const root = view("tpl-product");
  const state = { product: null, version: null, cursors: [], before: null, location: "" };
  let basis = null; // the product version the edit form was filled from
  let editFields = null; // the fields of the edit form, once the document gave them
  const editForm = buildForm($("#edit", root), "e", "PUT", "/api/products/{id}").then((fields) => {
    editFields = fields;
  });
  let refreshing = null;

  function showProduct(product, version) {
    state.product = product;
    state.version = version;
    remember(product);
    document.title = `${product.name} · Inventory`;
    $("#view-title", root).textContent = product.name;
    $("#p-sku", root).textContent = product.sku;
    $("#p-price", root).textContent = product.price;
    $("#p-reorder", root).textContent = product.reorder_point ?? "none";
    $("#p-version", root).textContent = version;
    $("#p-description", root).textContent = product.description;
    const edit = $("#edit", root);
    if (basis === null || !edit.dataset.dirty) fillEdit(product, version);
  }

  function fillEdit(product, version) {
    const edit = $("#edit", root);
    for (const f of editFields ?? []) {
      const input = edit.elements[f.name];
      if (f.kind === "bool") input.checked = Boolean(product[f.name]);
      else input.value = product[f.name] ?? "";
    }
    basis = version;
    delete edit.dataset.dirty;
  }

  function showFlags(inv, reservations) {
    const soon = reservations.some((r) => r.expires_at && new Date(r.expires_at) - Date.now() < EXPIRING_WITHIN * 1000);
    const flags = flagsOf(inv, soon);
    $("#p-flags", root).replaceChildren(...flags);
    $("#p-flags", root).dataset.attention = flags.map((f) => f.dataset.flag).join(" ");
  }

  function showLevels(inv) {
    for (const k of ["on_hand", "reserved", "available"]) $(`#t-${k}`, root).textContent = inv[k];
    $("#levels tbody", root).replaceChildren(
      ...inv.locations.map((l) =>
        h(
          "tr",
          { "data-location": l.location },
          h("th", { scope: "row", text: l.location }),
          h("td", { class: "num", text: l.on_hand }),
          h("td", { class: "num", text: l.reserved }),
          h("td", { class: "num", text: l.available }),
        ),
      ),
    );
    const select = $("#h-location", root);
    const names = inv.locations.map((l) => l.location);
    const have = [...select.options].map((o) => o.value).slice(1);
    if (names.join("\n") !== have.join("\n")) {
      select.replaceChildren(h("option", { value: "", text: "All locations" }), ...names.map((n) => h("option", { text: n })));
      select.value = state.location;
    }
  }

  function showReservations(list) {
    $("#reservations tbody", root).replaceChildren(
      ...list.map((r) =>
        h(
          "tr",
          {},
          h(
            "td",
            {},
            h("span", { "data-col": "reference", text: r.reference || "(unreferenced)" }),
            h("span", { class: "fold-detail", text: `at ${r.location}` }),
          ),
          h("td", { class: "fold", text: r.location }),
          h("td", { class: "num", text: r.quantity }),
          r.expires_at
            ? h(
                "td",
                {},
                h("time", { datetime: r.expires_at, "data-expires": r.expires_at, title: when(r.expires_at), text: countdown(r.expires_at) }),
                new Date(r.expires_at) - Date.now() < EXPIRING_WITHIN * 1000 ? flag("expiring") : "",
              )
            : h("td", { text: "never" }),
        ),
      ),
    );
    $("#reservations-empty", root).hidden = list.length > 0;
  }

  function showHistory(list) {
    $("#history tbody", root).replaceChildren(
      ...list.map((m) =>
        h(
          "tr",
          { "data-seq": m.seq },
          h("td", { class: "num fold", text: m.seq }),
          h("td", { class: "fold" }, h("time", { datetime: m.created_at, text: when(m.created_at) })),
          h(
            "td",
            { "data-col": "type" },
            m.type,
            h("span", {
              class: "fold-detail",
              text: [`#${m.seq}`, when(m.created_at), m.location, `on hand ${m.on_hand_after}, reserved ${m.reserved_after}`, m.actor && `by ${m.actor}`, m.notes]
                .filter(Boolean)
                .join(" · "),
            }),
          ),
          h("td", { class: "num", text: m.quantity }),
          h("td", { class: "text fold", text: m.location }),
          h("td", { class: "num fold", text: m.on_hand_after }),
          h("td", { class: "num fold", text: m.reserved_after }),
          h("td", { class: "text", "data-col": "reference", text: m.reference ?? "" }),
          h("td", { class: "text fold", "data-col": "actor", text: m.actor ?? "" }),
          h("td", { class: "text fold", "data-col": "notes", text: m.notes ?? "" }),
        ),
      ),
    );
    $("#history-empty", root).hidden = list.length > 0;
    const holder = $("#chart", root);
    holder.replaceChildren(chart([...list].reverse(), holder.clientWidth));
    $("#h-newer", root).disabled = state.cursors.length === 0;
    $("#h-older", root).disabled = list.length < 20;
    state.oldest = list.length ? list[list.length - 1].seq : null;
  }

  // Refreshes overlap (a burst of the feed's movements, a click on Older): only the latest
  // one asked for is shown, so an earlier answer arriving last never undoes a page change.
  let asked = 0;
  async function refresh() {
    const error = $("#product-error", root);
    const mine = ++asked;
    try {
      // The edit form is filled from the product, so its fields come first.
      const [, p, reservations, movements] = await Promise.all([
        editForm,
        get(`/api/products/${id}`),
        get(`/api/products/${id}/reservations`),
        get(`/api/products/${id}/transactions${query({ limit: 20, before: state.before, location: state.location })}`),
      ]);
      if (mine !== asked) return;
      showProduct(p.data.product, p.version);
      showLevels(p.data.inventory);
      showFlags(p.data.inventory, reservations.data);
      showReservations(reservations.data);
      showHistory(movements.data);
      error.hidden = true;
      root.firstElementChild.dataset.state = "ready";
    } catch (e) {
      if (mine !== asked) return;
      error.textContent = e.message;
      error.hidden = false;
    }
  }

  // Movements arrive in bursts: one refresh for each burst.
  function refreshSoon() {
    refreshing ??= setTimeout(() => {
      refreshing = null;
      refresh();
    }, 100);
  }

  // Stock operation forms: one per operation the API publishes, with the fields it takes.
  const select = $("#op", root);
  const holder = $("#op-forms", root);
  function buildForms(ops) {
    for (const spec of ops) {
      select.appendChild(h("option", { value: spec.op, text: `${spec.op[0].toUpperCase()}${spec.op.slice(1)}: ${spec.summary}` }));
      const form = h(
        "form",
        { id: `op-${spec.op}`, class: "op", "data-op": spec.op, novalidate: true, hidden: spec.op !== select.options[0].value },
        h("p", { class: "hint", text: `${spec.summary}.` }),
        ...spec.fields.map((f) => fieldRow(spec.op, f)),
        h("div", { class: "actions" }, h("button", { type: "submit", text: `${spec.op[0].toUpperCase()}${spec.op.slice(1)}` })),
        h("p", { class: "form-error", role: "alert", hidden: true }),
        h("p", { class: "form-ok", role: "status", hidden: true }),
      );
      holder.appendChild(form);
      bindForm(
        form,
        (key) => request("POST", `/api/products/${id}/stock/${spec.op}`, { body: formValues(form, spec.fields), key }),
        ({ data }, note) => {
          const levels = data.from ? `${levelText(data.from)}; ${levelText(data.to)}` : levelText(data);
          showOk(form, `Done. ${levels}.${note}`);
          refreshSoon();
        },
      );
    }
    holder.dataset.state = "ready";
  }
  stockOperations().then(buildForms, (e) => {
    holder.replaceChildren(h("p", { class: "form-error", role: "alert", text: `The stock operations could not be read: ${e.message}` }));
  });
  select.addEventListener("change", () => {
    for (const form of holder.children) form.hidden = form.dataset.op !== select.value;
  });

  // Edit, conditional on the version the form was filled from.
  const edit = $("#edit", root);
  edit.addEventListener("input", () => {
    edit.dataset.dirty = "true";
  });
  bindForm(
    edit,
    (key) => {
      const body = changedValues(edit, editFields ?? [], state.product);
      return request("PUT", `/api/products/${id}`, { body, key, ifMatch: basis }).catch((e) => {
        if (e instanceof ApiError && e.status === 412) {
          e.message =
            "This product was changed after this form was filled, so nothing was saved. " +
            "Reload the page to see the current values, then make your change again.";
        }
        throw e;
      });
    },
    ({ data, version }, note) => {
      delete edit.dataset.dirty;
      basis = null;
      showProduct(data, version);
      showOk(edit, `Saved (version ${version}).${note}`);
    },
  );

  $("#h-older", root).addEventListener("click", () => {
    state.cursors.push(state.before);
    state.before = state.oldest;
    refresh();
  });
  $("#h-newer", root).addEventListener("click", () => {
    state.before = state.cursors.pop() ?? null;
    refresh();
  });
  $("#h-location", root).addEventListener("change", (e) => {
    state.location = e.target.value;
    state.cursors = [];
    state.before = null;
    refresh();
  });

  const ticker = setInterval(() => {
    let lapsed = false;
    for (const t of root.querySelectorAll("[data-expires]")) {
      t.textContent = countdown(t.dataset.expires);
      if (t.textContent === "expired") lapsed = true;
    }
    // The server's sweep releases lapsed reservations; reads never show them after that.
    if (lapsed) refreshSoon();
  }, 1000);
  const listen = (batch) => {
    if (batch.some((m) => m.product_id === id)) refreshSoon();
  };
  listeners.add(listen);
  current = { id, refresh: refreshSoon };
  refresh();
  return () => {
    current = null;
    clearInterval(ticker);
    listeners.delete(listen);
  };
}

async function loadLocationNames() {
  try {
    const { data } = await get("/api/locations");
    document.getElementById("location-names").replaceChildren(...data.map((l) => h("option", { value: l.name })));
    return data;
  } catch {
    return null;
  }
}

function locationsView() {
  const root = view("tpl-locations");
  async function load() {
    const data = await loadLocationNames();
    if (!data) return;
    $("#locations tbody", root).replaceChildren(
      ...data.map((l) =>
        h(
          "tr",
          {},
          h(
            "th",
            { scope: "row" },
            h("span", { "data-col": "name", text: l.name }),
            h("span", { class: "fold-detail", text: `${l.products} products · on hand ${l.on_hand} · reserved ${l.reserved}` }),
          ),
          h("td", { class: "num fold", text: l.products }),
          h("td", { class: "num fold", text: l.on_hand }),
          h("td", { class: "num fold", text: l.reserved }),
          h("td", { class: "num", text: l.available }),
        ),
      ),
    );
    $("#locations-empty", root).hidden = data.length > 0;
  }
  const form = $("#new-location", root);
  let fields = [];
  buildForm(form, "l", "POST", "/api/locations").then((f) => {
    fields = f ?? [];
  });
  bindForm(
    form,
    (key) => request("POST", "/api/locations", { body: formValues(form, fields), key }),
    ({ data }, note) => {
      showOk(form, `Created ${data.name}.${note}`);
      load();
    },
  );
  let soon = null;
  const listen = () => {
    soon ??= setTimeout(() => {
      soon = null;
      load();
    }, 250);
  };
  listeners.add(listen);
  load();
  return () => listeners.delete(listen);
}

function newProductView() {
  const root = view("tpl-new");
  const form = $("#new-product", root);
  let fields = [];
  buildForm(form, "n", "POST", "/api/products").then((f) => {
    fields = f ?? [];
  });
  bindForm(
    form,
    (key) => request("POST", "/api/products", { body: formValues(form, fields), key }),
    ({ data }) => {
      remember(data.product);
      location.hash = `#/product/${data.product.id}`;
    },
  );
  return () => {};
}

// ---- The scan field: a code and Enter opens its product; a short command acts on the
// product on screen (scan.js), and the answer names the product and the result. ----

let current = null; // the product page on screen: { id, refresh }
let scanning = false; // a route change made by the scan field leaves the focus there

const scanForm = document.getElementById("scan");
const scanInput = document.getElementById("scan-input");
const scanResult = document.getElementById("scan-result");

function said(text, state) {
  scanResult.textContent = text;
  scanResult.dataset.state = state;
}

const DONE = { add: "Added", remove: "Removed", count: "Counted" };

async function openCode(code) {
  // SKUs are matched exactly; the list's q is a prefix, so the exact one is picked from it.
  const { data } = await get(`/api/products${query({ q: code, limit: 100 })}`);
  const p = data.find((x) => x.sku === code);
  if (!p) {
    said(`No product has the code ${code}.`, "error");
    return;
  }
  remember(p);
  said(`${p.sku} · ${p.name}`, "ok");
  // Routed here and now rather than on hashchange, so that the next line scanned finds this
  // product on screen.
  if (location.hash !== `#/product/${p.id}`) history.pushState(null, "", `#/product/${p.id}`);
  scanning = true;
  route();
}

async function runCommand({ op, body }, key) {
  if (!current) {
    said("Scan or open a product first: a command acts on the product on screen.", "error");
    return;
  }
  const p = products.get(current.id);
  const name = p ? `${p.sku} · ${p.name}` : short(current.id);
  const { data, replayed } = await request("POST", `/api/products/${current.id}/stock/${op}`, { body, key });
  const amount = op === "count" ? body.counted : body.quantity;
  const ref = body.reference ? ` under ${body.reference}` : "";
  said(`${DONE[op]} ${amount}${ref}: ${name}. ${levelText(data)}.${replayed ? " (A repeat: applied once.)" : ""}`, "ok");
  current.refresh();
}

async function scanLine(line, parsed) {
  scanForm.setAttribute("aria-busy", "true");
  try {
    if (parsed.code) await openCode(parsed.code);
    else await runCommand(parsed, newKey());
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    said(`${line.trim()}: ${err.message} (${err.error})`, "error");
  } finally {
    scanForm.removeAttribute("aria-busy");
  }
}

// Lines are done in the order they were scanned, each after the one before has finished: a
// scanner can send the next before the first is answered.
let scanned = Promise.resolve();
scanForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const line = scanInput.value;
  const parsed = parseScan(line);
  if (!parsed) return;
  scanInput.value = "";
  scanned = scanned.then(() => scanLine(line, parsed));
});
scanInput.addEventListener("keydown", (e) => {
  if (e.key === "Escape") scanInput.value = "";
});

// One key, "/", brings the focus back to the scan field from anywhere but a text control.
document.addEventListener("keydown", (e) => {
  if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t.isContentEditable) return;
  if (document.querySelector("dialog[open]")) return;
  e.preventDefault();
  scanInput.focus();
});

// ---- Routing ----

let leave = () => {};
let first = true;

function route() {
  leave();
  document.title = "Inventory";
  const path = location.hash.replace(/^#/, "").split("?")[0] || "/";
  const product = path.match(/^\/product\/([0-9a-fA-F-]{36})$/);
  if (product) leave = productView(product[1]);
  else if (path === "/locations") leave = locationsView();
  else if (path === "/new") leave = newProductView();
  else leave = productsView();
  for (const a of document.querySelectorAll(".top nav a")) {
    const target = a.getAttribute("href").slice(1);
    a.toggleAttribute("aria-current", target === path || (target === "/" && path === "/"));
  }
  if (!first && !scanning) $("#view-title")?.focus();
  first = false;
  scanning = false;
}

const keyButton = document.getElementById("key-button");
function showKeyState() {
  keyButton.textContent = apiKey() ? "API key (set)" : "API key";
}
keyButton.addEventListener("click", async () => {
  if (await askForKey("Give the API key to use in this browser tab.")) route();
  showKeyState();
});
window.addEventListener("hashchange", route);
document.getElementById("key-dialog").addEventListener("close", showKeyState);

showKeyState();
route();
scanInput.focus();
loadLocationNames();
startFeed();
