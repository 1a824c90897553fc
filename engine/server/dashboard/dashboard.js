"use strict";
const POLL_MS = 3000;
const MAX_EXPIRING = 60;
const MAX_ALERTS = 40;  // per group, when it is opened
// The page's languages, each with its catalogue in messages.js; Arabic and
// Persian read right to left.
const LANGS = ["en", "ar", "fa", "vi"];
const RTL = ["ar", "fa"];
const SEVERITY_RANK = {info: 1, amber: 2, red: 3};
const GROUPS = ["O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-"];
const CATEGORIES = ["red_cells", "platelets", "plasma", "whole_blood", "cryo"];
const PHASES = ["green", "pre_amber", "amber", "red"];
// Colour is not the only signal: each phase also has a mark and a name.
const MARK = {green: "", pre_amber: "!", amber: "!!", red: "!!!"};

const state = {supply: null, expiring: null, alerts: null, health: null, facilities: null,
               error: null, updated: null};

function storageGet(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
function storageSet(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } }

const params = new URLSearchParams(window.location.search);
let lang = LANGS.includes(params.get("lang")) ? params.get("lang")
         : LANGS.includes(storageGet("hemoledger.lang")) ? storageGet("hemoledger.lang")
         : LANGS.find(l => (navigator.language || "").toLowerCase().startsWith(l)) || "en";
// The sector the coordinator answers for (docs/alerts.md, "Routing"): ?sector=
// once, then remembered; its alerts only, with acknowledge buttons.
const sector = params.has("sector") ? params.get("sector") : (storageGet("hemoledger.sector") || "");
if (params.has("sector")) storageSet("hemoledger.sector", params.get("sector"));
// Groups the coordinator opened stay open across polls.
const openGroups = new Set();
let category = CATEGORIES.includes(params.get("category")) ? params.get("category")
             : CATEGORIES.includes(storageGet("hemoledger.category")) ? storageGet("hemoledger.category")
             : "red_cells";
// The API token (docs/security.md): ?token= once, then remembered in this
// browser; sent as "Authorization: Bearer" with every API call.
const token = params.get("token") || storageGet("hemoledger.token") || "";
if (params.get("token")) {
  storageSet("hemoledger.token", params.get("token"));
  // Out of the address bar (and its history) once remembered.
  const rest = new URLSearchParams(window.location.search);
  rest.delete("token");
  try {
    history.replaceState(null, "", window.location.pathname + (rest.toString() ? "?" + rest : ""));
  } catch (e) { /* file: or sandboxed */ }
}

// The catalogue of the language, any string it lacks taken from English.
const merged = {};
function t() {
  if (!merged[lang]) merged[lang] = Object.assign({}, TEXT.en, TEXT[lang]);
  return merged[lang];
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) e.append(c);
  }
  return e;
}

// Latin codes (blood groups, DINs) keep their own direction inside Arabic text.
function ltr(text, cls) { return el("span", {dir: "ltr", class: cls}, text); }

function pad2(n) { return String(n).padStart(2, "0"); }
function clock(d) { return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds()); }
function fmtDays(d) { return d >= 10 ? String(Math.round(d)) : d.toFixed(1); }

// Arabic-script names serve Arabic and Persian readers (the reference data has no Persian names).
function nameOf(x) { return x ? (RTL.includes(lang) ? x.name_ar : x.name_en) || x.code : ""; }

function setLang(l) {
  lang = l;
  storageSet("hemoledger.lang", l);
  if (params.has("lang")) {
    params.set("lang", l);
    history.replaceState(null, "", "?" + params.toString());
  }
  render();
}

function renderChrome() {
  const root = document.documentElement;
  root.lang = lang;
  root.dir = RTL.includes(lang) ? "rtl" : "ltr";
  document.title = t().doc_title;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t()[e.dataset.t];
  for (const l of LANGS) document.getElementById("lang-" + l).setAttribute("aria-pressed", String(lang === l));
  const sec = document.getElementById("sector");
  sec.hidden = !sector;
  sec.textContent = sector ? t().signed_in_sector + " " + sector : "";
  // Options are rebuilt only when the language changes, so that polling does
  // not close an open drop-down.
  const sel = document.getElementById("category");
  if (sel.dataset.lang !== lang) {
    sel.replaceChildren(...CATEGORIES.map(c => el("option", {value: c}, t().cat[c])));
    sel.dataset.lang = lang;
  }
  sel.value = category;
}

function renderStatus() {
  const s = document.getElementById("status");
  const parts = [];
  const h = state.health;
  if (state.error) {
    parts.push(el("span", {class: "state down"}, t().down));
    parts.push(el("span", {class: "problem"}, ltr(state.error)));
    if (state.updated) parts.push(el("span", {}, t().last_data + " " + clock(state.updated)));
    s.replaceChildren(...parts);
    return;
  }
  if (!h) { s.replaceChildren(el("span", {}, t().loading)); return; }
  const ok = h.status === "ok";
  parts.push(el("span", {class: "state " + (ok ? "ok" : "degraded"), id: "engine-state"},
                ok ? t().ok : t().degraded));
  const k = h.kafka || {};
  parts.push(el("span", {id: "kafka-status"}, t().kafka + ": ",
                k.embedded ? t().embedded + " " : "", ltr("(" + (k.bootstrap_servers || "") + ")")));
  if (k.problem) parts.push(el("span", {class: "problem"}, t().kafka_problem + ": ", ltr(k.problem)));
  if (h.storage && h.storage.problem) {
    parts.push(el("span", {class: "problem"}, t().storage_problem + ": ", ltr(h.storage.problem)));
  }
  let lag = 0;
  for (const p of Object.values(h.partitions || {})) lag += p.lag || 0;
  if (lag > 0) parts.push(el("span", {}, t().lag(lag)));
  if (state.updated) parts.push(el("span", {}, t().updated + " " + clock(state.updated)));
  s.replaceChildren(...parts);
}

function cell(scopeId, where, group, g, windowDays) {
  const phase = PHASES.includes(g.phase) ? g.phase : "green";
  const days = g.days === null || g.days === undefined ? null : fmtDays(g.days);
  const label = t().cell_label(where, group, g.available, days, windowDays, t().phase[phase]);
  const idle = g.available === 0 && days === null;
  return el("td", {id: "cell-" + scopeId + "-" + group, class: "cell phase-" + phase + (idle ? " idle" : ""),
                   "data-phase": phase, title: label, "aria-label": label},
            el("span", {class: "n"}, String(g.available)),
            el("span", {class: "d"}, days === null ? "—" : t().days_short(days)),
            el("span", {class: "m", "aria-hidden": "true"}, MARK[phase]));
}

function renderSupply() {
  const s = state.supply;
  const table = document.getElementById("supply");
  const legend = document.getElementById("legend");
  if (!s) return;
  const w = s.window_days;
  document.getElementById("supply-note").textContent = t().supply_note(w);
  legend.replaceChildren(...PHASES.map(p => el("li", {},
      el("span", {class: "swatch phase-" + p, "aria-hidden": "true"}, MARK[p] || "\u00a0"),
      el("span", {}, t().phase[p] + " (" + t().legend[p](s.thresholds) + ")"))),
      el("li", {}, el("span", {class: "swatch", "aria-hidden": "true"}, "—"),
         el("span", {}, t().no_demand(w))));
  table.tHead.replaceChildren(el("tr", {},
      el("th", {scope: "col"}, t().governorate),
      ...GROUPS.map(g => el("th", {scope: "col"}, ltr(g, "grp")))));
  table.tBodies[0].replaceChildren(...s.governorates.map(gov => el("tr", {id: "gov-" + gov.code},
      el("th", {scope: "row"}, nameOf(gov)),
      ...GROUPS.map(g => cell(gov.code, nameOf(gov), g, gov.groups[g], w)))));
  table.tFoot.replaceChildren(el("tr", {id: "country"},
      el("th", {scope: "row"}, t().country),
      ...GROUPS.map(g => cell("country", t().country, g, s.country.groups[g], w))));
  // Whether all eight groups show without scrolling sideways (a hint when not).
  const box = table.parentElement;
  const fits = box.scrollWidth <= box.clientWidth + 1;
  document.getElementById("supply-section").dataset.fits = fits ? "yes" : "no";
  document.getElementById("supply-scroll-hint").hidden = fits;
}

function renderExpiring() {
  const list = document.getElementById("expiring");
  const more = document.getElementById("expiring-more");
  const e = state.expiring;
  if (!e) return;
  const facilities = {};
  for (const f of state.facilities || []) facilities[f.code] = f;
  const governorates = {};
  for (const g of (state.supply && state.supply.governorates) || []) governorates[g.code] = g;
  const shown = e.units.slice(0, MAX_EXPIRING);
  if (shown.length === 0) {
    list.replaceChildren(el("li", {class: "empty"}, t().none_expiring));
  } else {
    list.replaceChildren(...shown.map(u => {
      const fac = facilities[u.facility] || {code: u.facility};
      const gov = governorates[u.governorate];
      const s = u.suggestion;
      const suggestion = s
        ? el("div", {class: "suggestion"}, (lang === "ar" ? "← " : "→ ") + t().suggest + " ",
             el("span", {class: "to"}, nameOf({code: s.to, name_en: s.name_en, name_ar: s.name_ar})),
             " (" + t().supply_there(fmtDays(s.days_of_supply), t().phase[s.phase] || s.phase) + ")")
        : el("div", {class: "suggestion none"}, t().no_short);
      return el("li", {id: "unit-" + u.din + "-" + u.product, class: u.hours_left < 24 ? "soon" : "later"},
          el("div", {class: "unit-head"},
             ltr(u.abo_rh, "grp"),
             el("span", {class: "cat"}, t().cat[u.category] || u.category),
             el("span", {class: "hours"}, t().hours_left(u.hours_left))),
          el("div", {class: "where"}, el("span", {class: "facility"}, nameOf(fac)),
             gov ? " · " + nameOf(gov) : ""),
          el("div", {}, ltr(u.din + " " + u.product, "din")),
          suggestion);
    }));
  }
  const hidden = e.units.length - shown.length;
  more.hidden = hidden <= 0;
  more.textContent = hidden > 0 ? t().more(hidden) : "";
}

function alertText(x, facilities) {
  const gov = {code: x.governorate, name_en: x.governorate_name_en, name_ar: x.governorate_name_ar};
  const where = x.facility ? nameOf(facilities[x.facility] || {code: x.facility}) : nameOf(gov);
  const unitKinds = ["recall", "unknown_fate", "emergency_release", "rhd_exception",
                     "transfusion_reaction", "haemovigilance_hold"];
  const what = unitKinds.includes(x.kind)
             ? x.din + " " + x.product + (x.kind === "recall" ? "" :
                 " (" + x.abo_rh + " " + (t().cat[x.category] || x.category) + ")")
             : x.abo_rh + " " + (t().cat[x.category] || x.category);
  const issuer = x.figures && x.figures.issuer ? nameOf(facilities[x.figures.issuer] || {code: x.figures.issuer}) : "";
  if (x.kind === "unknown_fate") return t().alert_unknown_fate(what, where, x, issuer);
  if (x.kind === "emergency_release") return t().alert_emergency(what, where, x);
  if (x.kind === "rhd_exception") return t().alert_rhd_exception(what, where, x);
  if (x.kind === "transfusion_reaction") return t().alert_reaction(what, where, x);
  if (x.kind === "haemovigilance_hold") return t().alert_hold(what, where, x);
  if (x.kind === "supply_phase") {
    return x.figures.stock_out && x.figures.days_of_supply === null ? t().alert_stock_out(what, where, x)
         : t().alert_supply(what, where, x);
  }
  if (x.kind === "deferred_donor_collected") return t().alert_deferred(where, x);
  if (x.kind === "typing_discrepancy") return t().alert_typing(where, x);
  if (x.kind === "positive_after_release") return t().alert_positive(where, x);
  if (x.kind === "recipient_notification") return t().alert_notify(where, x);
  if (x.kind === "reagent_cover") return t().alert_reagent_cover(x.reagent, where, x);
  if (x.kind === "reagent_expiring") return t().alert_reagent_expiring(x.reagent, where, x);
  if (x.kind === "expiring_soon") {
    const s = x.figures.suggestion;
    return t().alert_expiring(what, where, x, s ? nameOf(facilities[s.to] || {code: s.to}) : null);
  }
  if (x.kind === "recall") return t().alert_recall(what, where, x);
  return x.message;
}

function when(s) { return ltr(s.replace("T", " ").replace("Z", " UTC")); }

// Acknowledge and close, for the sector signed in, on alerts routed to it.
async function answer(id, action, body) {
  const headers = {"Content-Type": "application/json"};
  if (token) headers.Authorization = "Bearer " + token;
  try {
    const r = await fetch("/api/alerts/" + encodeURIComponent(id) + "/" + action,
                          {method: "POST", headers: headers, body: JSON.stringify(body)});
    const j = await r.json();
    state.answer = {id: id, ok: r.ok, text: r.ok ? t().answered[action] : (j.message || ("HTTP " + r.status))};
  } catch (err) {
    state.answer = {id: id, ok: false, text: String(err.message || err)};
  }
  refresh();
}

function followUp(x) {
  const parts = [];
  if (x.acknowledged) {
    parts.push(el("span", {class: "ack"}, t().acknowledged_by(x.acknowledged.by, x.acknowledged.sector) + " ",
                  when(x.acknowledged.at)));
  } else if (x.escalated_to && x.escalated_to.length) {
    parts.push(el("span", {class: "esc"}, t().escalated_to(x.escalated_to[x.escalated_to.length - 1])));
  }
  const mine = sector && (x.sectors || []).includes(sector);
  if (mine && !x.acknowledged) {
    parts.push(el("button", {type: "button", class: "ack-button", "data-alert": x.id}, t().acknowledge));
  }
  if (mine) parts.push(el("button", {type: "button", class: "close-button", "data-alert": x.id}, t().close));
  if (state.answer && state.answer.id === x.id) {
    parts.push(el("span", {class: state.answer.ok ? "answer ok" : "answer problem", role: "status"}, state.answer.text));
  }
  return parts.length ? el("div", {class: "follow"}, ...parts) : null;
}

// One line per governorate and kind, with the count and the worst severity;
// it opens onto the alerts themselves.
function renderAlerts() {
  const list = document.getElementById("alerts");
  const more = document.getElementById("alerts-more");
  const a = state.alerts;
  if (!a) return;
  const facilities = {};
  for (const f of state.facilities || []) facilities[f.code] = f;
  const groups = new Map();
  for (const x of a.alerts) {
    const key = x.governorate + "|" + x.kind;
    if (!groups.has(key)) groups.set(key, {key: key, governorate: x, kind: x.kind, alerts: [], worst: "info"});
    const g = groups.get(key);
    g.alerts.push(x);
    if (SEVERITY_RANK[x.severity] > SEVERITY_RANK[g.worst]) g.worst = x.severity;
  }
  const ordered = [...groups.values()].sort((p, q) =>
      SEVERITY_RANK[q.worst] - SEVERITY_RANK[p.worst] || q.alerts.length - p.alerts.length ||
      p.key.localeCompare(q.key));
  if (ordered.length === 0) {
    list.replaceChildren(el("li", {class: "empty"}, t().none_alerts));
  } else {
    list.replaceChildren(...ordered.map(g => {
      const x0 = g.governorate;
      const gov = {code: x0.governorate, name_en: x0.governorate_name_en, name_ar: x0.governorate_name_ar};
      const id = "group-" + x0.governorate + "-" + g.kind;
      const counts = {red: 0, amber: 0, info: 0};
      for (const x of g.alerts) counts[x.severity] = (counts[x.severity] || 0) + 1;
      const unanswered = g.alerts.filter(x => !x.acknowledged).length;
      const details = el("details", {}, el("summary", {},
          el("span", {class: "sev"}, t().severity[g.worst] || g.worst),
          el("span", {class: "gov"}, nameOf(gov)),
          el("span", {class: "kind"}, t().kind[g.kind] || g.kind),
          el("span", {class: "count"}, t().alert_count(g.alerts.length)),
          unanswered < g.alerts.length ? el("span", {class: "unanswered"}, t().unanswered(unanswered)) : null),
        el("ul", {class: "group-alerts"}, ...g.alerts.slice(0, MAX_ALERTS).map(x =>
          el("li", {id: "alert-" + x.id, class: "sev-" + x.severity, "data-kind": x.kind, "data-severity": x.severity},
             el("span", {class: "sev"}, t().severity[x.severity] || x.severity),
             el("span", {class: "text"}, alertText(x, facilities)),
             el("span", {class: "since"}, t().raised + " ", when(x.raised_at)),
             followUp(x)))),
        g.alerts.length > MAX_ALERTS ? el("p", {class: "more"}, t().more(g.alerts.length - MAX_ALERTS)) : null);
      if (openGroups.has(id)) details.open = true;
      details.addEventListener("toggle", () => {
        if (details.open) openGroups.add(id); else openGroups.delete(id);
      });
      return el("li", {id: id, class: "group sev-" + g.worst, "data-kind": g.kind, "data-count": String(g.alerts.length),
                       "data-severity": g.worst}, details);
    }));
  }
  for (const b of list.querySelectorAll("button.ack-button")) {
    b.addEventListener("click", () => answer(b.dataset.alert, "acknowledge", {sector: sector}));
  }
  for (const b of list.querySelectorAll("button.close-button")) {
    b.addEventListener("click", () => {
      const note = window.prompt(t().close_note);
      if (note) answer(b.dataset.alert, "close", {sector: sector, note: note});
    });
  }
  more.hidden = true;
}

// The bedside in numbers: open emergency releases, reactions under review and
// units of unknown fate, counted from all open alerts (not only those listed).
function renderBedside() {
  const a = state.alerts;
  if (!a) return;
  document.getElementById("bedside-title").textContent = t().bedside_title;
  document.getElementById("bedside-note").textContent = t().bedside_note;
  const kinds = ["emergency_release", "transfusion_reaction", "unknown_fate"];
  document.getElementById("bedside").replaceChildren(...kinds.map(k => {
    const open = a.alerts.filter(x => x.kind === k);
    const red = open.some(x => x.severity === "red");
    return el("li", {id: "bedside-" + k, class: open.length ? (red ? "sev-red" : "sev-amber") : "sev-none",
                     "data-count": String(open.length)},
        el("span", {class: "n"}, String(open.length)),
        el("span", {class: "label"}, t().bedside[k]));
  }));
}

function render() {
  renderChrome();
  renderAlerts();
  renderBedside();
  renderStatus();
  renderSupply();
  renderExpiring();
}

async function getJSON(url, okStatuses) {
  const headers = token ? {"Authorization": "Bearer " + token} : {};
  const r = await fetch(url, {cache: "no-store", headers: headers});
  if (!(r.ok || (okStatuses || []).includes(r.status))) throw new Error(url + ": HTTP " + r.status);
  return r.json();
}

let busy = false, again = false;
async function refresh() {
  if (busy) { again = true; return; }
  busy = true;
  try {
    const wanted = category;
    const [supply, expiring, alerts, health, facilities] = await Promise.all([
      getJSON("/api/supply?category=" + encodeURIComponent(wanted)),
      getJSON("/api/expiring"),
      getJSON("/api/alerts" + (sector ? "?sector=" + encodeURIComponent(sector) : "")),
      getJSON("/health", [503]),
      state.facilities ? Promise.resolve(state.facilities) : getJSON("/api/facilities"),
    ]);
    if (wanted === category) state.supply = supply; else again = true;
    state.expiring = expiring;
    state.alerts = alerts;
    state.health = health;
    state.facilities = facilities;
    state.error = null;
    state.updated = new Date();
  } catch (err) {
    state.error = String((err && err.message) || err);
  } finally {
    busy = false;
    render();
    if (again) { again = false; refresh(); }
  }
}

for (const l of LANGS) document.getElementById("lang-" + l).addEventListener("click", () => setLang(l));
document.getElementById("category").addEventListener("change", ev => {
  category = ev.target.value;
  storageSet("hemoledger.category", category);
  if (params.has("category")) {
    params.set("category", category);
    history.replaceState(null, "", "?" + params.toString());
  }
  refresh();
});
render();
refresh();
setInterval(refresh, POLL_MS);
