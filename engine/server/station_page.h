// The scanning station served at `GET /station`: one self-contained HTML page
// (CSS and vanilla JavaScript inline, no external resources) for a blood
// bank bench in a browser or a kiosk. The bench signs in with its station
// token; the page shows the facility the token names, offers the actions of
// the engine's one table (GET /api/station/session), keeps the focus in the
// scan field, and sends every scan to POST /api/station/scan, where the
// engine decodes and checks it (engine/station/station_session.h). It shows
// a full-width OK (green) or STOP (red, with the reason and the code), each
// with its own sound, and the session's last scans. English or Arabic
// (right-to-left), with the dashboard's message catalogues.
//
// The page holds no rule of its own: it never decodes a label and never
// shows OK before the engine has committed the action.
//
// The page is written as files in engine/server/station/ (index.html,
// station.css, station.js) and ../dashboard/messages.js, embedded at build
// time (engine/server/embed_page.cmake), so the binary needs no files at run
// time.
//
// Thread-safe: the text is a constant with static storage duration.
#pragma once

#include <string_view>

namespace hemoledger {

// The page, UTF-8 HTML.
std::string_view station_page();

}  // namespace hemoledger
