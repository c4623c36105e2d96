// The teacher's page: the key comes from the URL's #fragment (never sent to a server log).
"use strict";
let key = new URLSearchParams(location.hash.slice(1)).get("key") || sessionStorage.getItem("abm-classroom-key") || "";
let state = null, version = -1, qrDone = false;
function H() { return { "X-Teacher-Key": key }; }
function $(id) { return document.getElementById(id); }

async function post(path, body) {
  const r = await api("POST", "/api/teacher/" + path, H(), body || {});
  $("error").textContent = r.ok ? "" : (r.data.error || "refused");
  version = -1; await poll();
  return r;
}

async function poll() {
  if (!key) { $("nokey").classList.remove("hidden"); return; }
  const r = await api("GET", "/api/teacher/state", H());
  if (r.status === 403) { $("nokey").classList.remove("hidden"); $("app").classList.add("hidden"); return; }
  if (!r.ok) { $("error").textContent = r.data.error || "the server cannot be reached"; return; }
  sessionStorage.setItem("abm-classroom-key", key);
  $("nokey").classList.add("hidden"); $("app").classList.remove("hidden");
  state = r.data;
  if (!qrDone) {
    const q = await api("GET", "/api/teacher/qr", H());
    if (q.ok) { $("qr").innerHTML = q.data.svg; $("join-url").textContent = q.data.url; qrDone = true; }  // segno's SVG, made by the server
  }
  renderLive(state);
  if (state.version !== version) { version = state.version; render(state); }
}

function renderLive(s) {
  // countdowns and "seen" ages change every second without a version change
  for (const t of s.teams) {
    const cell = document.querySelector(`[data-deadline="${CSS.escape(t.team)}"]`);
    if (cell) cell.textContent = t.deadline_left === null || t.deadline_left === undefined ? "" : Math.ceil(t.deadline_left) + " s";
  }
}

function seatSelect(t, s) {
  const sel = el("select", { "data-team": t.team, disabled: s.phase !== "lobby", onchange: ev => {
    const v = ev.target.value;
    if (!v) post("assign", { team: t.team, market: null, firm: "" });
    else { const [m, f] = JSON.parse(v); post("assign", { team: t.team, market: m, firm: f }); }
  } });
  sel.append(el("option", { value: "", text: "— no role —" }));
  for (const seat of s.seats) {
    const v = JSON.stringify([seat.market, seat.firm]);
    const mine = t.seat && t.seat.market === seat.market && t.seat.firm === seat.firm;
    const label = `Market ${seat.market + 1} · ${seat.firm} (${seat.role})` + (seat.team && !mine ? ` — ${seat.team}` : "");
    sel.append(el("option", { value: v, selected: mine, disabled: !!seat.team && !mine, text: label }));
  }
  return sel;
}

function render(s) {
  $("case").textContent = `${s.case} — ${s.case_title}`;
  $("clock").textContent = s.phase === "lobby" ? "lobby" : `round ${s.round} · month ${s.month} of ${s.horizon}` + (s.phase === "finished" ? " · finished" : "");
  $("join-code").textContent = s.code;
  $("teacher-key").textContent = s.teacher_key;
  const preset = clear($("preset"));
  preset.append(el("option", { value: "", text: "— choose —" }));
  for (const p of s.presets) preset.append(el("option", { value: p, text: p, selected: p === s.case }));
  $("markets").value = s.settings.markets; $("months").value = s.settings.months_per_round;
  $("deadline").value = s.settings.deadline_s; $("horizon").value = s.settings.horizon; $("choose-entry").checked = s.settings.choose_entry;
  for (const id of ["preset", "upload", "markets", "horizon", "choose-entry", "auto-assign", "start"]) $(id).disabled = s.phase !== "lobby";
  $("next").disabled = s.phase !== "playing" || s.round_open;
  $("defaults").disabled = !s.round_open;
  $("status").textContent = s.phase === "playing" ? (s.round_open ? `waiting for: ${s.undecided.join(", ")}` : "round done: start the next one") : (s.saved_to ? `saved to ${s.saved_to}` : "");
  const table = clear($("teams"));
  table.append(el("thead", {}, el("tr", {}, ["Team", "Role", "Share", "Cash", "NPV", "Trust", "Decisions", "Defaults", "Now", "Deadline", "Seen"].map((h, i) => el("th", { class: i >= 2 && i <= 7 ? "num" : "", text: h })))));
  const body = el("tbody");
  for (const t of s.teams) {
    const now = t.deciding ? el("span", { class: "pill deciding", text: "deciding: " + words(t.deciding) }) : (s.phase === "playing" ? el("span", { class: "pill done", text: "done" }) : "");
    body.append(el("tr", { "data-row": t.team },
      el("td", { text: t.team + (t.rejoins ? ` (rejoined ${t.rejoins}×)` : "") }), el("td", {}, seatSelect(t, s)),
      el("td", { class: "num", text: pct(t.share) }), el("td", { class: "num", text: money(t.cash) }), el("td", { class: "num", text: money(t.npv) }),
      el("td", { class: "num", text: num(t.trust) }), el("td", { class: "num", text: t.decisions === undefined ? "" : t.decisions }),
      el("td", { class: "num", text: t.defaults === undefined ? "" : t.defaults }), el("td", {}, now),
      el("td", { "data-deadline": t.team }), el("td", { class: "muted", text: t.seen_s_ago + " s" })));
  }
  table.append(body);
  clear($("audit")).append(...s.audit.slice().reverse().map(a => el("div", { class: a.ok ? "" : "warn" }, `${a.time} ${a.who}: ${a.what}`)));
  renderDebrief(s.debrief);
  renderLive(s);
}

function renderDebrief(db) {
  const box = clear($("debrief"));
  if (!db) return;
  box.append(el("div", { class: "card", id: "league", style: "margin-top:8px" }, el("h2", { text: "Debrief · league table (NPV in million, value still held included)" }),
    el("table", {}, el("thead", {}, el("tr", {}, ["#", "Team", "Firm", "Market", "NPV", "Default policy's NPV", "Final share", "Trust at end", "Partnership", "Decisions", "Defaults"].map(h => el("th", { text: h })))),
      el("tbody", {}, db.league.map((r, i) => el("tr", {}, el("td", { text: i + 1 }), el("td", { text: r.team }), el("td", { text: `${r.firm} (${r.role})` }), el("td", { text: r.market + 1 }),
        el("td", { class: "num", text: money(r.npv) }), el("td", { class: "num", text: money(r.npv_default) }), el("td", { class: "num", text: pct(r.share_final) }),
        el("td", { class: "num", text: num(r.trust_final) }), el("td", { text: words(r.partnership_end) }), el("td", { class: "num", text: r.decisions }), el("td", { class: "num", text: r.defaults })))))),
    el("div", { class: "card", style: "margin-top:8px" }, el("h2", { text: "What each team's decisions changed" }),
      Object.entries(db.teams).map(([team, t]) => el("p", {}, el("b", { text: team + ": " }), `${t.compare} ${t.divergence}`))));
  for (const m of db.markets) {
    for (const p of m.partnerships) {
      const who = p.teams.length ? p.teams.join(" & ") : "default policies";
      const pl = p.played, df = p.default;
      box.append(el("div", { class: "card", style: "margin-top:8px", "data-partnership": `${m.market}:${p.entrant}` },
        el("h2", { text: `Market ${m.market + 1}: ${p.entrant} with ${p.partner || "no partner"} (${who}) — played vs default policies, same seed` }),
        el("div", { class: "grid cols2" },
          lineChart("Trust (played: solid; default: dashed)", pl.month, [
            { name: `${p.entrant}'s trust`, values: pl.trust_entrant, color: COLORS.blue },
            { name: `${p.partner}'s trust`, values: pl.trust_partner, color: COLORS.orange },
            { name: "default: entrant", values: df.trust_entrant, color: COLORS.blue, dash: "5 3" },
            { name: "default: partner", values: df.trust_partner, color: COLORS.orange, dash: "5 3" }], { width: 520 }),
          lineChart("Commitment delivered (played: solid; default: dashed)", pl.month, [
            { name: p.entrant, values: pl.commitment_entrant, color: COLORS.green },
            { name: p.partner, values: pl.commitment_partner, color: COLORS.red },
            { name: "default: entrant", values: df.commitment_entrant, color: COLORS.green, dash: "5 3" },
            { name: "default: partner", values: df.commitment_partner, color: COLORS.red, dash: "5 3" }], { width: 520 })),
        el("p", {}, el("b", { text: "What happened: " }), p.story.join(" "))));
    }
  }
  box.append(el("div", { class: "grid cols2", style: "margin-top:8px" }, ...db.markets.map(m => el("div", { class: "card" }, el("h2", { text: `Market ${m.market + 1}: timeline` }),
    el("div", { class: "events" }, m.events.map(e => el("div", {}, el("b", { text: `m${e.month} ` }), e.text))))),
    el("div", { class: "card" }, el("h2", { text: "The same market under the default policies" }),
      el("div", { class: "events" }, db.default.events.map(e => el("div", {}, el("b", { text: `m${e.month} ` }), e.event))))));
}

document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", ev => { ev.preventDefault(); key = $("key").value.trim(); version = -1; poll(); });
  $("preset").addEventListener("change", ev => { if (ev.target.value) post("case", { preset: ev.target.value }); });
  $("upload").addEventListener("change", async ev => {
    const f = ev.target.files[0]; if (!f) return;
    if (f.size > 200000) { $("error").textContent = "scenario file: at most 200,000 bytes"; return; }
    post("case", { toml: await f.text(), filename: f.name });
  });
  $("apply-settings").addEventListener("click", () => {
    const body = { months_per_round: Number($("months").value), deadline_s: Number($("deadline").value) };
    if (state.phase === "lobby") Object.assign(body, { markets: Number($("markets").value), horizon: Number($("horizon").value), choose_entry: $("choose-entry").checked });
    post("settings", body);
  });
  $("auto-assign").addEventListener("click", () => post("auto_assign"));
  $("start").addEventListener("click", () => post("start"));
  $("next").addEventListener("click", () => post("next", { round: state.round + 1 }));
  $("defaults").addEventListener("click", () => post("defaults"));
  $("save").addEventListener("click", () => post("save"));
  poll();
  setInterval(poll, 1000);
});
