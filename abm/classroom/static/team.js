// The team's page: join, then poll the team's own state once a second and show its firm.
"use strict";
const KEY = "abm-classroom-team-token";
let token = localStorage.getItem(KEY), version = -1, state = null, sending = false;

function headers() { return { "X-Team-Token": token || "" }; }

function showJoin(message) {
  document.getElementById("join").classList.remove("hidden");
  document.getElementById("game").classList.add("hidden");
  const params = new URLSearchParams(location.search);
  const code = document.getElementById("code");
  if (!code.value && params.get("code")) code.value = params.get("code");
  document.getElementById("join-error").textContent = message || "";
}

async function join(ev) {
  ev.preventDefault();
  const code = document.getElementById("code").value.trim(), team = document.getElementById("team").value;
  const r = await api("POST", "/api/join", {}, { code, team });
  if (!r.ok) { document.getElementById("join-error").textContent = r.data.error || "refused"; return; }
  token = r.data.token; localStorage.setItem(KEY, token); version = -1;
  document.getElementById("join").classList.add("hidden");
  poll();
}

async function poll() {
  if (!token) { if (document.getElementById("join").classList.contains("hidden")) showJoin(); return; }
  const r = await api("GET", "/api/team/state", headers());
  if (r.status === 401) { token = null; localStorage.removeItem(KEY); showJoin("Join again with your code and team name."); return; }
  if (!r.ok) { document.getElementById("error").textContent = r.data.error || "the server cannot be reached"; return; }
  document.getElementById("error").textContent = "";
  state = r.data;
  tickDeadline();
  const sig = signature(state);
  if (sig !== version) { version = sig; render(state); }
}

// Re-render only when what this team sees has changed (not on the countdown or on other teams' moves),
// so a button is never replaced under the pointer.
function signature(s) {
  const copy = Object.assign({}, s, { version: 0 });
  if (s.view && s.view.decision) copy.view = Object.assign({}, s.view, { decision: Object.assign({}, s.view.decision, { deadline_left: null }) });
  return JSON.stringify(copy);
}

function tickDeadline() {
  const d = state && state.view && state.view.decision;
  const node = document.getElementById("deadline");
  if (node && d && d.deadline_left !== null && d.deadline_left !== undefined) {
    node.textContent = `Deadline: ${Math.ceil(d.deadline_left)} s — then your firm's default policy decides for you`;
  }
}

async function choose(choice) {
  if (sending) return;
  const d = state.view.decision;
  sending = true;
  const r = await api("POST", "/api/team/decide", headers(), { market: state.seat.market, firm: state.seat.firm, seq: d.seq, choice });
  sending = false;
  if (!r.ok) { document.getElementById("error").textContent = r.data.error || "refused"; version = -1; poll(); return; }
  state = r.data; version = signature(state); render(state);
}

function optionRow(o, scale) {
  const lo = scale.lo, span = scale.hi - scale.lo || 1;
  const x = v => (100 * (v - lo) / span).toFixed(1) + "%";
  const left = Math.min(0, o.value), right = Math.max(0, o.value);
  return el("div", { class: "option" },
    el("button", { class: "primary", "data-choice": o.name, "data-value": o.value, onclick: () => choose(o.name) }, words(o.name)),
    el("div", { class: "bar", title: `${o.value} ± ${o.spread}` },
      el("div", { class: "zero", style: `left:${x(0)}` }),
      el("div", { class: "fill", style: `left:${x(left)};width:calc(${x(right)} - ${x(left)})` }),
      el("div", { class: "err", style: `left:${x(o.value - o.spread)};width:calc(${x(o.value + o.spread)} - ${x(o.value - o.spread)})` })),
    el("div", { class: "num", text: `${money(o.value)} ± ${num(o.spread, 1)}` }));
}

function decisionCard(v) {
  const d = v.decision;
  if (!d) {
    const waiting = state.waiting_for_other_side ? "The other side is deciding…" : (state.phase === "finished" ? "The game is over." : "No decision for your firm now: the teacher starts the next round.");
    return el("div", { class: "card", id: "decision" }, el("h2", { text: "Your decision" }), el("p", { class: "muted", text: waiting }));
  }
  const vals = d.options.flatMap(o => [o.value - o.spread, o.value + o.spread, 0]);
  const scale = { lo: Math.min(...vals), hi: Math.max(...vals) };
  return el("div", { class: "card", id: "decision" },
    el("h2", { text: `Month ${d.month}: ${d.title}` }),
    el("p", { class: "muted", text: `${d.context.charAt(0).toUpperCase() + d.context.slice(1)}. Your firm's own estimate of each option's value (million, discounted), ± how unsure it is:` }),
    d.options.map(o => optionRow(o, scale)),
    el("p", { class: "warn", id: "deadline" }));
}

function render(s) {
  document.getElementById("join").classList.add("hidden");
  const game = clear(document.getElementById("game"));
  game.classList.remove("hidden");
  const seat = s.seat;
  document.getElementById("who").textContent = `Team ${s.team}` + (seat ? ` · ${seat.firm} (${seat.role}, market ${seat.market + 1})` : "");
  if (!seat) { game.append(el("div", { class: "card" }, el("h2", { text: `Welcome, ${s.team}` }), el("p", { text: "Wait for the teacher to give your team a role." }))); return; }
  if (s.phase === "lobby") { game.append(el("div", { class: "card" }, el("h2", { text: `You play ${seat.firm}, the ${seat.role}` }), el("p", { text: `Case: ${s.case}. Wait for the teacher to start the game.` }))); return; }
  const v = s.view;
  document.getElementById("clock").textContent = `Round ${s.round} · month ${v.month} of ${v.horizon}`;
  const isEntrant = v.role === "entrant";
  const kpis = el("div", { class: "kpis" },
    kpi(isEntrant ? "Your market share" : "The venture's share", pct(v.own.share), "share"),
    kpi(isEntrant ? "Cash" : "Cash received", money(v.own.cash), "cash"),
    kpi(isEntrant ? "NPV so far" : "Value from the partnership", money(v.own.npv_to_date), "npv"),
    kpi(`Your trust in ${v.counterpart || "the other side"}`, num(v.trust), "trust"),
    kpi(`${v.counterpart || "Other side"} delivered`, pct(v.other_delivered), "other"),
    kpi("You delivered", pct(v.own_delivered), "own"),
    isEntrant ? null : kpi("Share of your promise you put in", pct(v.own.commitment_level), "level"),
    kpi("Mode", words(v.own.mode) + (v.partnership ? ` (${words(v.partnership.status)})` : ""), "mode"));
  const h = v.history;
  const charts = el("div", { class: "card" }, el("h2", { text: "Your path" }),
    lineChart("Trust and commitment delivered", h.month, [
      { name: "your trust", values: h.trust, color: COLORS.blue },
      { name: "they delivered", values: h.other_delivered, color: COLORS.orange, dash: "5 3" },
      { name: "you delivered", values: h.own_delivered, color: COLORS.green, dash: "2 2" }], { xmax: v.horizon }),
    lineChart(isEntrant ? "Your market share" : "The venture's market share", h.month, [{ name: "share", values: h.share, color: COLORS.purple }], { xmax: v.horizon, hi: Math.max(0.05, ...h.share.filter(x => x !== null)), percent: true }));
  const events = el("div", { class: "card" }, el("h2", { text: "What happened (what your firm saw)" }),
    el("div", { class: "events" }, v.events.slice().reverse().map(e => el("div", {}, el("b", { text: `m${e.month} ` }), e.text))));
  const market = el("div", { class: "card" }, el("h2", { text: "Market shares (public)" }),
    el("table", {}, el("tbody", {}, v.market.map(m => el("tr", {}, el("td", { text: m.firm }), el("td", { class: "num", text: pct(m.share) }))))));
  const taken = el("div", { class: "card" }, el("h2", { text: "Your decisions" }),
    v.taken.length ? el("table", {}, el("tbody", {}, v.taken.map(t => el("tr", {}, el("td", { text: `m${t.month}` }), el("td", { text: words(t.kind) }), el("td", { text: words(t.choice) }), el("td", { class: "muted", text: t.by === "deadline" ? "deadline: default policy" : "" }))))) : el("p", { class: "muted", text: "none yet" }));
  game.append(kpis, el("div", { class: "grid cols2", style: "margin-top:8px" }, decisionCard(v), charts), el("div", { class: "grid cols3", style: "margin-top:8px" }, events, market, taken));
  if (s.phase === "finished" && !s.debrief) game.prepend(el("div", { class: "card", style: "margin-bottom:8px" }, el("h2", { text: "The game is over: the debrief is being prepared…" })));
  if (s.debrief) {
    const db = s.debrief;
    game.prepend(el("div", { class: "card", id: "team-debrief", style: "margin-bottom:8px" }, el("h2", { text: "Debrief: your path against the default policy on the same market" }),
      el("p", { text: db.compare }), el("p", { text: db.divergence })));
  }
  tickDeadline();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("join-form").addEventListener("submit", join);
  poll();
  setInterval(poll, 1000);
  setInterval(() => { const d = state && state.view && state.view.decision; if (d && d.deadline_left) { d.deadline_left = Math.max(0, d.deadline_left - 0.25); tickDeadline(); } }, 250);
});
