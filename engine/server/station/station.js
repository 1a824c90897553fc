"use strict";
// The scanning station page (engine/server/station_page.h). It holds no rule:
// every scan goes to the engine (POST /api/station/scan), which decodes and
// checks it; the page shows the engine's answer, in the bench's language.
const HEALTH_MS = 5000;
const MAX_HISTORY = 25;

function storageGet(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
function storageSet(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
function storageDel(k) { try { window.localStorage.removeItem(k); } catch (e) { /* private mode */ } }

const params = new URLSearchParams(window.location.search);
let lang = ["en", "ar"].includes(params.get("lang")) ? params.get("lang")
         : ["en", "ar"].includes(storageGet("hemoledger.lang")) ? storageGet("hemoledger.lang")
         : (navigator.language || "").toLowerCase().startsWith("ar") ? "ar" : "en";

// The bench: its token, and what the engine said of it (facility, actions).
const bench = {token: storageGet("hemoledger.station.token") || "",
               facility: storageGet("hemoledger.station.facility") || "",
               session: null};
// The action chosen, what it takes from the bench, and the labels of the unit
// being assembled (raw scans, as the engine last returned them).
const desk = {action: storageGet("hemoledger.station.action") || "issue", values: {},
              pending: [], details: {}, history: [], health: null};

function t() { return TEXT[lang]; }
function s() { return TEXT[lang].station; }

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
function ltr(text) { return el("span", {class: "ltr", dir: "ltr"}, text); }
function nameOf(x) { return x ? (lang === "ar" ? x.name_ar : x.name_en) || x.code : ""; }
function actionLabel(name) { return s().action[name] || name; }
function pad2(n) { return String(n).padStart(2, "0"); }
function clock(d) { return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds()); }

function headers() {
  const h = {"Content-Type": "application/json"};
  if (bench.token) h["Authorization"] = "Bearer " + bench.token;
  return h;
}

// ---- sounds: two rising tones for OK, three low buzzes for STOP -------------

let audio = null;
function sound(kind) {
  document.getElementById("answer").dataset.sound = kind;
  const tones = kind === "ok" ? [[660, 0, 0.12, "sine"], [990, 0.15, 0.2, "sine"]]
              : [[196, 0, 0.22, "square"], [196, 0.3, 0.22, "square"], [196, 0.6, 0.22, "square"]];
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    for (const [f, at, len, type] of tones) {
      const o = audio.createOscillator(), g = audio.createGain();
      o.type = type;
      o.frequency.value = f;
      g.gain.value = 0.25;
      o.connect(g).connect(audio.destination);
      o.start(audio.currentTime + at);
      o.stop(audio.currentTime + at + len);
    }
  } catch (e) { /* no audio device: the colour and the word still say it */ }
}

// ---- the answer ---------------------------------------------------------------

// The reason of a stop in the bench's language: the catalogue's sentence for
// its code, else the engine's own sentence.
function reasonOf(a) {
  const d = Object.assign({}, a.details || {});
  d.unit = [d.din, d.product].filter(Boolean).join(" ");
  d.action = actionLabel(a.action || desk.action);
  let code = a.code || "";
  if (code.startsWith("label_") && !s().codes[code] && d.special) code = "label_special";
  const f = s().codes[code];
  return f ? f(d) : a.message;
}

function showAnswer(a) {
  const box = document.getElementById("answer");
  const kind = a.answer;
  box.dataset.answer = kind;
  box.dataset.code = a.code || "";
  const word = {ok: s().ok, stop: s().stop, unconfirmed: s().wait, checking: "…"}[kind] || "";
  document.getElementById("answer-word").textContent = word;
  let text = "";
  if (kind === "ok") {
    const d = a.details || {};
    text = s().ok_text([d.din, d.product].filter(Boolean).join(" "), actionLabel(a.action),
                       d.label_group);
  } else if (kind === "checking") {
    text = s().checking;
  } else if (kind === "none") {
    text = s().ready;
  } else {
    text = reasonOf(a);
  }
  document.getElementById("answer-text").textContent = text;
  document.getElementById("answer-code").textContent = a.code ? "[" + a.code + "]" : "";
}

function remember(a) {
  desk.history.unshift({at: new Date(), answer: a});
  desk.history.length = Math.min(desk.history.length, MAX_HISTORY);
  renderHistory();
}

function renderHistory() {
  const list = document.getElementById("history");
  if (desk.history.length === 0) {
    list.replaceChildren(el("li", {class: "empty"}, s().none_yet));
    return;
  }
  list.replaceChildren(...desk.history.map(h => {
    const a = h.answer, d = a.details || {};
    const word = {ok: s().ok, stop: s().stop, unconfirmed: s().wait}[a.answer];
    return el("li", {class: a.answer},
      el("span", {class: "mark"}, word),
      el("span", {}, ltr(clock(h.at))),
      el("span", {}, actionLabel(a.action)),
      ltr([d.din, d.product].filter(Boolean).join(" ")),
      a.answer === "ok" ? null : el("span", {}, reasonOf(a)),
      a.code ? ltr("[" + a.code + "]") : null);
  }));
}

function renderPending() {
  const p = document.getElementById("pending");
  if (desk.pending.length === 0) { p.textContent = ""; return; }
  const d = desk.details || {};
  const have = [], missing = [];
  for (const [part, key] of [["din", "din"], ["product", "product"], ["group", "label_group"],
                             ["expiry", "label_expiry"]]) {
    (d[key] ? have : missing).push(s().part[part] + (d[key] ? " " + d[key] : ""));
  }
  p.textContent = s().read_so_far + " " + have.join(", ") +
                  (missing.length ? " — " + s().still_needed + " " + missing.join(", ") : "");
}

// ---- scanning -----------------------------------------------------------------

let queue = Promise.resolve();

// Scans are sent one after the other: each carries the labels the engine
// accepted so far for the unit.
function scan(text) {
  queue = queue.then(() => send(text));
}

async function send(text) {
  const action = desk.action;
  const body = Object.assign({action: action, scan: text, pending: desk.pending}, desk.values);
  // The onset as the bench's local time, sent as an instant (RFC 3339).
  delete body.onset_local;
  if (desk.values.onset_local) body.onset_at = new Date(desk.values.onset_local).toISOString();
  if (bench.session && bench.session.open) body.facility = bench.facility;
  if (desk.pending.length === 0) showAnswer({answer: "checking"});
  let a;
  try {
    const r = await fetch("/api/station/scan", {method: "POST", headers: headers(),
                                                body: JSON.stringify(body), cache: "no-store"});
    const j = await r.json();
    if (r.ok) {
      a = j;
    } else {
      // A refusal of the request itself (400 bad settings, 401, 403).
      a = {answer: "stop", code: j.code || j.error || ("http_" + r.status), message: j.message,
           details: {}, pending: desk.pending};
    }
  } catch (err) {
    // Nothing reached the engine, or its answer was lost: nothing is shown as done.
    a = {answer: "stop", code: "engine_unreachable", message: s().unreachable, details: {},
         pending: desk.pending};
    desk.health = null;
    renderEngine();
  }
  a.action = action;
  desk.pending = a.pending || [];
  if (a.answer === "incomplete") {
    desk.details = a.details || {};
  } else {
    desk.details = {};
  }
  renderPending();
  if (a.answer === "incomplete") {
    if (desk.pending.length === 1) showAnswer({answer: "none"});
    return;
  }
  if (a.answer === "cleared") {
    showAnswer({answer: "none"});
    return;
  }
  showAnswer(a);
  sound(a.answer === "ok" ? "ok" : "stop");
  remember(a);
}

// ---- the bench: actions and what they take ------------------------------------

function currentAction() {
  const list = (bench.session && bench.session.actions) || [];
  return list.find(x => x.name === desk.action) || list[0];
}

// The form field of one thing the action takes; its value goes into the
// scan's body under the engine's field name.
const NEED_KEYS = {patient: "patient", patient_group: "patient_abo_rh", to: "to",
                   discard_reason: "reason", reason: "reason", approver: "approver"};

function bound(input, key) {
  const set = ev => {
    desk.values[key] = ev.target.value.trim();
    if (!desk.values[key]) delete desk.values[key];
  };
  input.addEventListener("change", set);
  input.addEventListener("input", set);
  return input;
}

function choice(id, key, options) {
  const value = desk.values[key] || "";
  return bound(el("select", {id: id}, el("option", {value: ""}, s().choose),
                  ...options.map(([v, label]) => el("option", {value: v, selected: v === value ? "" : null}, label))),
               key);
}

function textField(id, key) {
  return bound(el("input", {id: id, autocomplete: "off", spellcheck: "false", dir: "auto",
                            value: desk.values[key] || ""}), key);
}

// A transfusion reaction: its category, severity and imputability (ISBT
// haemovigilance codes) and when it began.
function reactionFields(required) {
  // Worded as the dashboard's catalogue words them (messages.js), else the code.
  const worded = (list, words) => list.map(c => [c, (words && words[c]) || c.replace(/_/g, " ")]);
  const t = TEXT[lang];
  const onset = bound(el("input", {id: "need-onset", type: "datetime-local", step: "1",
                                   value: desk.values.onset_local || ""}), "onset_local");
  const cls = required ? "required" : "";
  return [
    el("label", {class: cls}, el("span", {}, s().need.reaction), choice("need-reaction", "reaction", worded(bench.session.reactions, t.reaction))),
    el("label", {class: cls}, el("span", {}, s().need.severity), choice("need-severity", "severity", worded(bench.session.severities, t.reaction_severity))),
    el("label", {class: cls}, el("span", {}, s().need.imputability), choice("need-imputability", "imputability", worded(bench.session.imputabilities, t.imputability))),
    el("label", {class: cls}, el("span", {}, s().need.onset), onset),
  ];
}

function needField(need, required) {
  const id = "need-" + need;
  if (need === "reaction") return reactionFields(required);
  const key = NEED_KEYS[need];
  let input;
  if (need === "patient" || need === "reason" || need === "approver") {
    input = textField(id, key);
    if (need === "patient") input.setAttribute("dir", "ltr");
  } else {
    const options = need === "patient_group" ? bench.session.groups.map(g => [g, g])
                  : need === "to" ? bench.session.facilities
                      .filter(f => f.code !== bench.session.facility.code)
                      .map(f => [f.code, f.code + " · " + nameOf(f)])
                  : bench.session.discard_reasons.map(r => [r, r]);
    input = choice(id, key, options);
  }
  return [el("label", {class: required ? "required" : ""}, el("span", {}, s().need[need] || need), input)];
}

function renderActions() {
  const nav = document.getElementById("actions");
  const list = (bench.session && bench.session.actions) || [];
  nav.setAttribute("aria-label", s().title);
  nav.replaceChildren(...list.map(a => {
    const b = el("button", {type: "button", id: "action-" + a.name,
                            "aria-pressed": String(a.name === desk.action)}, actionLabel(a.name));
    b.addEventListener("click", () => chooseAction(a.name));
    return b;
  }));
  const a = currentAction();
  const needs = document.getElementById("needs");
  needs.replaceChildren(...(a ? [...a.needs.flatMap(n => needField(n, true)),
                                 ...a.may.flatMap(n => needField(n, false))] : []));
}

function chooseAction(name) {
  if (name !== desk.action) {
    desk.pending = [];
    desk.details = {};
    desk.values = {};
  }
  desk.action = name;
  storageSet("hemoledger.station.action", name);
  renderActions();
  renderPending();
  showAnswer({answer: "none"});
  focusScan();
}

// ---- chrome, language, engine state ------------------------------------------

function renderEngine() {
  const box = document.getElementById("engine");
  if (!bench.session) { box.replaceChildren(); return; }
  const h = desk.health;
  const state = !h ? "down" : h.status === "ok" ? "ok" : "degraded";
  box.replaceChildren(el("span", {class: "state " + state, id: "engine-state"}, t()[state]));
}

function renderChrome() {
  const root = document.documentElement;
  root.lang = lang;
  root.dir = lang === "ar" ? "rtl" : "ltr";
  document.title = s().doc_title;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = s()[e.dataset.t];
  document.getElementById("lang-en").setAttribute("aria-pressed", String(lang === "en"));
  document.getElementById("lang-ar").setAttribute("aria-pressed", String(lang === "ar"));
  const signed = !!bench.session;
  document.getElementById("sign-in").hidden = signed;
  document.getElementById("station").hidden = !signed;
  document.getElementById("bench").hidden = !signed;
  document.getElementById("sign-out").hidden = !signed;
  if (signed) document.getElementById("facility").textContent = nameOf(bench.session.facility);
}

function render() {
  renderChrome();
  renderEngine();
  if (bench.session) {
    renderActions();
    renderPending();
    renderHistory();
    const box = document.getElementById("answer");
    const last = desk.history[0];
    if (box.dataset.answer === "none" || !last) showAnswer({answer: "none"});
    else if (box.dataset.answer !== "checking") showAnswer(last.answer);
  }
}

function setLang(l) {
  lang = l;
  storageSet("hemoledger.lang", l);
  render();
  focusScan();
}

async function pollHealth() {
  if (!bench.session) return;
  try {
    const r = await fetch("/health", {cache: "no-store"});
    desk.health = await r.json();
  } catch (e) {
    desk.health = null;
  }
  renderEngine();
}

// ---- sign-in ------------------------------------------------------------------

async function signIn(token, facility) {
  const error = document.getElementById("sign-in-error");
  error.textContent = s().signing_in;
  bench.token = token;
  bench.facility = facility;
  try {
    const q = facility ? "?facility=" + encodeURIComponent(facility) : "";
    const r = await fetch("/api/station/session" + q, {headers: headers(), cache: "no-store"});
    const j = await r.json();
    if (!r.ok) {
      const code = j.code || j.error || "";
      if (code === "unknown_facility" && !token) {
        document.getElementById("facility-field").hidden = false;
        error.textContent = s().open_api;
      } else {
        error.textContent = (s().codes[code] ? s().codes[code]({}) : j.message || code) +
                            (code ? " [" + code + "]" : "");
      }
      bench.session = null;
      return;
    }
    bench.session = j;
    storageSet("hemoledger.station.token", token);
    if (facility) storageSet("hemoledger.station.facility", facility);
    if (!j.actions.some(a => a.name === desk.action)) desk.action = j.actions[0].name;
    error.textContent = "";
    render();
    pollHealth();
    focusScan();
  } catch (e) {
    error.textContent = s().unreachable;
  }
}

function signOut() {
  storageDel("hemoledger.station.token");
  storageDel("hemoledger.station.facility");
  bench.token = "";
  bench.session = null;
  desk.pending = [];
  desk.history = [];
  render();
  document.getElementById("token").value = "";
  document.getElementById("token").focus();
}

// The scan field keeps the focus: a scanner types wherever the focus is.
function focusScan() {
  if (!bench.session) return;
  const field = document.getElementById("scan");
  if (document.activeElement !== field) field.focus();
}

document.getElementById("scan").addEventListener("focusout", () => {
  setTimeout(() => {
    const a = document.activeElement;
    const inNeeds = a && document.getElementById("needs").contains(a);
    if (!inNeeds) focusScan();
  }, 0);
});
document.getElementById("needs").addEventListener("keydown", ev => {
  if (ev.key === "Enter") { ev.preventDefault(); focusScan(); }
});
document.getElementById("scan-form").addEventListener("submit", ev => {
  ev.preventDefault();
  const field = document.getElementById("scan");
  const text = field.value;
  field.value = "";
  if (text.trim() !== "") scan(text);
});
document.getElementById("clear-unit").addEventListener("click", () => scan("cancel"));
document.getElementById("sign-in-form").addEventListener("submit", ev => {
  ev.preventDefault();
  signIn(document.getElementById("token").value.trim(),
         document.getElementById("open-facility").value.trim().toUpperCase());
});
document.getElementById("sign-out").addEventListener("click", signOut);
document.getElementById("lang-en").addEventListener("click", () => setLang("en"));
document.getElementById("lang-ar").addEventListener("click", () => setLang("ar"));

render();
if (bench.token || bench.facility) signIn(bench.token, bench.facility);
else document.getElementById("token").focus();
setInterval(pollHealth, HEALTH_MS);
