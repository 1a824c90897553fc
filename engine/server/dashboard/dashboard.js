"use strict";
const POLL_MS = 3000;
const MAX_EXPIRING = 60;
const MAX_ALERTS = 40;
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
let lang = ["en", "ar"].includes(params.get("lang")) ? params.get("lang")
         : ["en", "ar"].includes(storageGet("hemoledger.lang")) ? storageGet("hemoledger.lang")
         : (navigator.language || "").toLowerCase().startsWith("ar") ? "ar" : "en";
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

function t() { return TEXT[lang]; }

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

function nameOf(x) { return x ? (lang === "ar" ? x.name_ar : x.name_en) || x.code : ""; }

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
  root.dir = lang === "ar" ? "rtl" : "ltr";
  document.title = t().doc_title;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t()[e.dataset.t];
  document.getElementById("lang-en").setAttribute("aria-pressed", String(lang === "en"));
  document.getElementById("lang-ar").setAttribute("aria-pressed", String(lang === "ar"));
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

function renderAlerts() {
  const list = document.getElementById("alerts");
  const more = document.getElementById("alerts-more");
  const a = state.alerts;
  if (!a) return;
  const facilities = {};
  for (const f of state.facilities || []) facilities[f.code] = f;
  const shown = a.alerts.slice(0, MAX_ALERTS);
  if (shown.length === 0) {
    list.replaceChildren(el("li", {class: "empty"}, t().none_alerts));
  } else {
    list.replaceChildren(...shown.map(x => {
      const gov = {code: x.governorate, name_en: x.governorate_name_en, name_ar: x.governorate_name_ar};
      const where = x.facility ? nameOf(facilities[x.facility] || {code: x.facility}) : nameOf(gov);
      const unitKinds = ["recall", "unknown_fate", "emergency_release", "rhd_exception",
                         "transfusion_reaction", "haemovigilance_hold"];
      const what = unitKinds.includes(x.kind)
                 ? x.din + " " + x.product + (x.kind === "recall" ? "" :
                     " (" + x.abo_rh + " " + (t().cat[x.category] || x.category) + ")")
                 : x.abo_rh + " " + (t().cat[x.category] || x.category);
      const issuer = x.figures && x.figures.issuer ? nameOf(facilities[x.figures.issuer] || {code: x.figures.issuer}) : "";
      let text;
      if (x.kind === "supply_phase") {
        text = x.figures.stock_out && x.figures.days_of_supply === null ? t().alert_stock_out(what, where, x)
             : t().alert_supply(what, where, x);
      } else if (x.kind === "deferred_donor_collected") text = t().alert_deferred(where, x);
      else if (x.kind === "typing_discrepancy") text = t().alert_typing(where, x);
      else if (x.kind === "positive_after_release") text = t().alert_positive(where, x);
      else if (x.kind === "recipient_notification") text = t().alert_notify(where, x);
      else if (x.kind === "unknown_fate") text = t().alert_unknown_fate(what, where, x, issuer);
      else if (x.kind === "emergency_release") text = t().alert_emergency(what, where, x);
      else if (x.kind === "rhd_exception") text = t().alert_rhd_exception(what, where, x);
      else if (x.kind === "transfusion_reaction") text = t().alert_reaction(what, where, x);
      else if (x.kind === "haemovigilance_hold") text = t().alert_hold(what, where, x);
      else if (x.kind === "reagent_cover") text = t().alert_reagent_cover(x.reagent, where, x);
      else if (x.kind === "reagent_expiring") text = t().alert_reagent_expiring(x.reagent, where, x);
      else if (x.kind === "expiring_soon") {
        const s = x.figures.suggestion;
        text = t().alert_expiring(what, where, x, s ? nameOf(facilities[s.to] || {code: s.to}) : null);
      } else text = t().alert_recall(what, where, x);
      return el("li", {id: "alert-" + x.id, class: "sev-" + x.severity, "data-kind": x.kind,
                       "data-severity": x.severity},
          el("span", {class: "sev"}, t().severity[x.severity] || x.severity),
          el("span", {class: "text"}, text),
          el("span", {class: "since"}, t().raised + " ", ltr(x.raised_at.replace("T", " ").replace("Z", " UTC"))));
    }));
  }
  const hidden = a.alerts.length - shown.length;
  more.hidden = hidden <= 0;
  more.textContent = hidden > 0 ? t().more(hidden) : "";
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
      getJSON("/api/alerts"),
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

document.getElementById("lang-en").addEventListener("click", () => setLang("en"));
document.getElementById("lang-ar").addEventListener("click", () => setLang("ar"));
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
