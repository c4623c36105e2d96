// abm classroom: shared helpers. Every text from the server goes in with textContent (never innerHTML).
"use strict";
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
async function api(method, url, headers, body) {
  const opts = { method, headers: Object.assign({}, headers || {}) };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  let res;
  try { res = await fetch(url, opts); } catch (e) { return { ok: false, status: 0, data: { error: "the server cannot be reached" } }; }
  let data = {};
  try { data = await res.json(); } catch (e) { data = { error: "unreadable answer" }; }
  return { ok: res.ok, status: res.status, data };
}
function pct(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %"; }
function money(x) { return x === null || x === undefined ? "–" : (x < 0 ? "−" : "") + Math.abs(x).toFixed(1) + " m"; }
function num(x, d) { return x === null || x === undefined ? "–" : Number(x).toFixed(d === undefined ? 2 : d); }
function words(s) { return String(s || "").replace(/_/g, " "); }
function kpi(label, value, id) { return el("div", { class: "kpi", "data-kpi": id || label }, el("div", { class: "k", text: label }), el("div", { class: "v", text: value })); }

// A small line chart: series [{name, values, color, dash}], x = months; y in [lo, hi].
const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs) { const n = document.createElementNS(SVGNS, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); return n; }
function lineChart(title, months, series, opts) {
  opts = opts || {};
  const W = opts.width || 420, H = opts.height || 150, L = 34, R = 8, T = 18, B = 20;
  const lo = opts.lo === undefined ? 0 : opts.lo, hi = opts.hi === undefined ? 1 : opts.hi;
  const xmax = Math.max(1, opts.xmax || (months.length ? months[months.length - 1] : 1));
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": title });
  const t = svg("text", { x: L, y: 12 }); t.textContent = title; s.append(t);
  const X = m => L + (W - L - R) * m / xmax, Y = v => T + (H - T - B) * (1 - (v - lo) / (hi - lo || 1));
  for (const v of [lo, (lo + hi) / 2, hi]) {
    s.append(svg("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), stroke: "#e3e3e3" }));
    const lab = svg("text", { x: 2, y: Y(v) + 4 }); lab.textContent = opts.percent ? Math.round(100 * v) + "%" : v.toFixed(1); s.append(lab);
  }
  const xl = svg("text", { x: W - R - 60, y: H - 4 }); xl.textContent = "month " + xmax; s.append(xl);
  for (const ser of series) {
    let d = "", pen = false;
    ser.values.forEach((v, i) => {
      if (v === null || v === undefined || Number.isNaN(v)) { pen = false; return; }
      d += (pen ? "L" : "M") + X(months[i]).toFixed(1) + "," + Y(Math.max(lo, Math.min(hi, v))).toFixed(1);
      pen = true;
    });
    if (d) s.append(svg("path", { d, fill: "none", stroke: ser.color, "stroke-width": 2, "stroke-dasharray": ser.dash || "" }));
  }
  const legend = el("div", { class: "legend" }, series.map(ser => el("span", { style: `color:${ser.color}` }, (ser.dash ? "┄ " : "— ") + ser.name)));
  return el("div", {}, s, legend);
}
const COLORS = { blue: "#0072B2", orange: "#E69F00", green: "#009E73", red: "#D55E00", purple: "#CC79A7", sky: "#56B4E9" };
