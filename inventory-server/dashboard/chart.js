// A step chart of on hand and reserved after each movement, drawn in SVG straight from the
// ledger's balances after each movement (on_hand_after, reserved_after): nothing is summed or
// recomputed here. Each movement is one point; a balance holds until the next movement at the
// same location, and a product stocked at several locations gets a pair of lines for each.

const NS = "http://www.w3.org/2000/svg";
const H = 240;
const PAD = { left: 48, right: 16, top: 12, bottom: 30 };

function svg(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

// The smallest of 1, 2, 5 × 10^k at least `x`, and never below 1 (units are whole).
function niceStep(x) {
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function clock(iso, withDate) {
  const d = new Date(iso);
  return withDate ? d.toLocaleString() : d.toLocaleTimeString();
}

// `movements` oldest first; `width` the pixels available, so that the drawing is not scaled
// and its labels stay legible on a phone. Returns a <figure> holding the chart and its legend.
export function chart(movements, width) {
  const W = Math.round(Math.min(960, Math.max(300, width || 640)));
  const figure = document.createElement("figure");
  figure.className = "chart";
  const n = movements.length;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "chart-caption" }, figure);
  const caption = document.createElement("figcaption");
  caption.id = "chart-caption";
  figure.appendChild(caption);
  if (!n) {
    caption.textContent = "No movements to chart.";
    return figure;
  }
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const highest = Math.max(...movements.map((m) => Math.max(m.on_hand_after, m.reserved_after)));
  const step = niceStep(highest / 4);
  const top = Math.max(step, Math.ceil(highest / step) * step);
  const x = (i) => PAD.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v) => PAD.top + plotH - (v / top) * plotH;

  const axis = svg("g", { class: "axis" }, root);
  for (let v = 0; v <= top; v += step) {
    svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }, axis);
    svg("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" }, axis).textContent = String(v);
  }
  const first = movements[0].created_at;
  const last = movements[n - 1].created_at;
  const days = new Date(first).toDateString() !== new Date(last).toDateString();
  svg("text", { x: x(0), y: H - 8, "text-anchor": n === 1 ? "middle" : "start" }, axis).textContent = clock(first, days);
  if (n > 1) {
    svg("text", { x: x(n - 1), y: H - 8, "text-anchor": "end" }, axis).textContent = clock(last, days);
  }

  const locations = [...new Set(movements.map((m) => m.location))];
  const keys = document.createElement("ul");
  keys.className = "legend";
  locations.forEach((location, li) => {
    const series = `s${li % 4}`;
    for (const [field, kind] of [["on_hand_after", "on-hand"], ["reserved_after", "reserved"]]) {
      let d = "";
      movements.forEach((m, i) => {
        if (m.location !== location) return;
        d += d ? ` H${x(i)} V${y(m[field])}` : `M${x(i)} ${y(m[field])}`;
      });
      svg("path", { d, class: `line ${kind} ${series}` }, root);
    }
    const key = (kind) => {
      const swatch = document.createElement("span");
      swatch.className = `key ${kind} ${series}`;
      return swatch;
    };
    const item = document.createElement("li");
    item.append(`${location}: `, key("on-hand"), " on hand ", key("reserved"), " reserved");
    keys.appendChild(item);
  });

  const points = svg("g", { class: "points" }, root);
  movements.forEach((m, i) => {
    const series = `s${locations.indexOf(m.location) % 4}`;
    const g = svg("g", { class: `point ${series}`, "data-seq": m.seq }, points);
    svg("circle", { cx: x(i), cy: y(m.on_hand_after), r: 3.5, class: "on-hand" }, g);
    svg("circle", { cx: x(i), cy: y(m.reserved_after), r: 2.5, class: "reserved" }, g);
    svg("title", {}, g).textContent =
      `#${m.seq} ${m.type} ${m.quantity} at ${m.location}: on hand ${m.on_hand_after}, ` +
      `reserved ${m.reserved_after} (${clock(m.created_at, true)})`;
  });
  caption.append(`On hand and reserved after each of the ${n} movements in the history below.`, keys);
  return figure;
}
