"use strict";
// The printable report (engine/server/report_page.h): reads GET /api/reports
// and lays the figures out for paper. Every figure comes from the API.
const params = new URLSearchParams(window.location.search);
const lang = params.get("lang") === "ar" ? "ar" : "en";
const period = params.get("period") || "";
const scope = params.get("scope") || "country";
function storageGet(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
const token = params.get("token") || storageGet("hemoledger.token") || "";
const R = TEXT[lang].report;
const CATS = ["red_cells", "platelets", "plasma", "whole_blood", "cryo"];
const GROUPS = ["O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-"];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}
function num(v, digits) {
  if (v === null || v === undefined) return "—";
  if (typeof v !== "number") return String(v);
  return digits === undefined ? v.toLocaleString(lang === "ar" ? "ar-u-nu-latn" : "en")
                              : v.toFixed(digits);
}
function ltr(text) { return el("span", {dir: "ltr", class: "code"}, text); }
function cat(c) { return R.cat[c] || c; }
function table(head, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, ...head.map(h => el("th", {scope: "col"}, h)))),
            el("tbody", {}, ...rows.map(r => el("tr", {}, ...r.map((c, i) =>
              i === 0 ? el("th", {scope: "row"}, c) : el("td", {class: "n"}, c))))));
}
function section(title, ...body) { return el("section", {}, el("h2", {}, title), ...body); }
function card(label, value) { return el("div", {class: "card"}, el("div", {class: "v"}, value), el("div", {class: "l"}, label)); }
function sum(obj) { return Object.values(obj || {}).reduce((a, b) => a + (typeof b === "number" ? b : 0), 0); }

// Trend lines: one polyline per series over the months.
function trendChart(trend) {
  const series = ["donations", "produced", "issued", "transfused", "wasted"];
  const colours = {donations: "#1f5fa8", produced: "#6a3d9a", issued: "#2f8f46", transfused: "#c77700", wasted: "#b3261e"};
  const W = 640, H = 220, L = 44, B = 30, T = 10, Rm = 110;
  const max = Math.max(1, ...trend.flatMap(m => series.map(s => m[s])));
  const x = i => L + (trend.length === 1 ? 0 : i * (W - L - Rm) / (trend.length - 1));
  const y = v => T + (H - T - B) * (1 - v / max);
  const g = svg("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": R.trend_title, direction: "ltr"});
  for (let k = 0; k <= 4; k++) {
    const v = Math.round(max * k / 4);
    g.append(svg("line", {x1: L, x2: W - Rm, y1: y(v), y2: y(v), stroke: "#dde1e6"}));
    g.append(svg("text", {x: L - 4, y: y(v) + 3, "text-anchor": "end"}, String(v)));
  }
  trend.forEach((m, i) => g.append(svg("text", {x: x(i), y: H - B + 14, "text-anchor": "middle"}, m.month)));
  series.forEach((s, k) => {
    g.append(svg("polyline", {fill: "none", stroke: colours[s], "stroke-width": 2,
                              points: trend.map((m, i) => x(i) + "," + y(m[s])).join(" ")}));
    trend.forEach((m, i) => g.append(svg("circle", {cx: x(i), cy: y(m[s]), r: 2.5, fill: colours[s]})));
    g.append(svg("rect", {x: W - Rm + 10, y: T + k * 16, width: 10, height: 10, fill: colours[s]}));
    g.append(svg("text", {x: W - Rm + 24, y: T + k * 16 + 9}, R.series[s]));
  });
  return g;
}

// Wastage by reason: one bar per discard reason (and expiry), all components.
function wastageChart(units) {
  const by = {};
  for (const reasons of Object.values(units.discarded || {})) {
    for (const [r, n] of Object.entries(reasons)) by[r] = (by[r] || 0) + n;
  }
  const expired = sum(units.expired);
  if (expired) by.expired = (by.expired || 0) + expired;
  const rows = Object.entries(by).sort((a, b) => b[1] - a[1]);
  const W = 640, rowH = 20, L = 190, H = Math.max(1, rows.length) * rowH + 10;
  const max = Math.max(1, ...rows.map(r => r[1]));
  const g = svg("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": R.wastage_chart, direction: "ltr"});
  if (rows.length === 0) g.append(svg("text", {x: 4, y: 14}, R.none));
  rows.forEach(([r, n], i) => {
    const w = (W - L - 60) * n / max;
    g.append(svg("text", {x: L - 6, y: i * rowH + 14, "text-anchor": "end"}, R.reason[r] || r));
    g.append(svg("rect", {x: L, y: i * rowH + 4, width: Math.max(1, w), height: rowH - 8, fill: "#b3261e"}));
    g.append(svg("text", {x: L + w + 4, y: i * rowH + 14}, String(n)));
  });
  return g;
}

function render(r) {
  document.getElementById("subtitle").replaceChildren(
    (lang === "ar" ? r.scope.name_ar : r.scope.name_en) + " · " + R.period + " ", ltr(r.period),
    " (", ltr(r.from + " – " + r.to), ")");
  document.getElementById("status").textContent =
    (r.complete ? R.complete : R.incomplete) + " " + R.as_of + " " + (r.as_of || "—").replace("T", " ").replace("Z", " UTC");
  const u = r.units;
  const main = document.getElementById("report");
  const cards = el("div", {class: "cards"},
    card(R.donations, num(r.donations.total)), card(R.produced, num(r.components_produced.total)),
    card(R.issued, num(sum(u.issued))), card(R.transfused, num(sum(u.transfused))),
    card(R.discarded, num(sum(u.discarded_total))), card(R.expired, num(sum(u.expired))),
    card(R.ct_ratio, num(r.reserved_to_transfused.ratio)),
    card(R.release_median, r.collection_to_release.median_hours === null ? "—" : num(r.collection_to_release.median_hours) + " " + R.hours));
  const byType = r.donations.by_type;
  const cats = CATS.filter(c => (r.components_produced.by_category[c] || u.issued[c] || u.transfused[c] ||
                                u.expired[c] || u.discarded_total[c] || u.returned[c]));
  const tti = Object.entries(r.tti.markers);
  const groups = r.days_of_supply.groups;
  const reagents = Object.entries(r.reagents);
  const alerts = r.alerts;
  const kinds = Object.entries(alerts.raised);
  main.replaceChildren(
    cards,
    section(R.trend_title, trendChart(r.trend)),
    section(R.donations_title, table([R.donor_type, R.count],
      ["voluntary", "replacement", "autologous", "unrecorded"].map(t => [R.donor[t], num(byType[t])]))),
    section(R.units_title, table([R.component, R.produced, R.issued, R.transfused, R.returned, R.expired, R.discarded, R.wastage],
      cats.map(c => [cat(c), num(r.components_produced.by_category[c] || 0), num(u.issued[c] || 0),
                     num(u.transfused[c] || 0), num(u.returned[c] || 0), num(u.expired[c] || 0),
                     num(u.discarded_total[c] || 0),
                     r.wastage[c] && r.wastage[c].rate_percent !== null ? num(r.wastage[c].rate_percent, 1) + " %" : "—"])),
      el("p", {class: "note"}, R.wastage_note)),
    section(R.wastage_chart, wastageChart(u)),
    section(R.ct_title, table([R.reserved, R.transfused, R.ct_ratio],
      [[num(r.reserved_to_transfused.reserved), num(r.reserved_to_transfused.transfused), num(r.reserved_to_transfused.ratio)]])),
    section(R.tti_title, table([R.marker, R.reactive, R.confirmed, R.reactive_rate, R.confirmed_rate],
      tti.map(([m, f]) => [ltr(m), num(f.repeatedly_reactive), num(f.confirmed),
                           num(f.reactive_per_10000), num(f.confirmed_per_10000)])),
      el("p", {class: "note"}, R.tti_note(r.tti.donations))),
    section(R.release_title, el("p", {}, R.release_text(r.collection_to_release))),
    section(R.supply_title(r.days_of_supply.window_days), table([R.group, R.dos_min, R.dos_avg],
      GROUPS.map(g => [ltr(g), num(groups[g].min), num(groups[g].average)]))),
    section(R.v2v_title, r.vein_to_vein.available
      ? table([R.figure, R.count],
          [[R.emergency_releases, num(r.vein_to_vein.emergency_releases.total)],
           [R.reactions, num(r.vein_to_vein.transfusion_reactions.total)],
           [R.reactions_rate, num(r.vein_to_vein.transfusion_reactions.per_1000_transfused)],
           [R.unknown_fate, num(r.vein_to_vein.units_of_unknown_fate)]])
      : el("p", {class: "note"}, R.v2v_missing)),
    section(R.reagents_title, table([R.reagent, R.used, R.lots_expired, R.days_below],
      reagents.map(([k, f]) => [ltr(k), num(f.used), num(f.lots_expired), num(f.days_below_min_cover)]))),
    section(R.alerts_title, table([R.kind, R.sev.info, R.sev.amber, R.sev.red],
      kinds.map(([k, s]) => [R.kind_name[k] || k, num(s.info || 0), num(s.amber || 0), num(s.red || 0)])),
      table([R.response, R.count, R.median_min, R.p90_min],
        [[R.acknowledged, num(alerts.acknowledged.count), num(alerts.acknowledged.median_minutes), num(alerts.acknowledged.p90_minutes)],
         [R.resolved, num(alerts.resolved.count), num(alerts.resolved.median_minutes), num(alerts.resolved.p90_minutes)],
         [R.escalated, num(alerts.escalated), "", ""]])));
}

function chrome() {
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "ar" ? "rtl" : "ltr";
  document.title = R.doc_title;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = R[e.dataset.t];
  const q = "period=" + encodeURIComponent(period) + "&scope=" + encodeURIComponent(scope);
  document.getElementById("csv").href = "/api/reports?" + q + "&format=csv";
  const other = lang === "ar" ? "en" : "ar";
  const link = document.getElementById("lang-other");
  link.href = "/report?" + q + "&lang=" + other;
  link.textContent = other === "ar" ? "عربي" : "English";
  document.getElementById("print").addEventListener("click", () => window.print());
}

async function load() {
  chrome();
  try {
    const headers = token ? {"Authorization": "Bearer " + token} : {};
    const res = await fetch("/api/reports?period=" + encodeURIComponent(period) + "&scope=" + encodeURIComponent(scope),
                            {headers: headers, cache: "no-store"});
    const body = await res.json();
    if (!res.ok) throw new Error(body.message || ("HTTP " + res.status));
    render(body);
    document.body.dataset.ready = "1";
  } catch (err) {
    document.getElementById("status").textContent = R.failed + ": " + String(err.message || err);
    document.body.dataset.ready = "error";
  }
}
load();
