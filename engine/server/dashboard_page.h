// The coordinators' dashboard served at `GET /`: one self-contained HTML page
// (CSS and vanilla JavaScript inline, no external resources) that polls the
// JSON API every 3 seconds and shows, for a chosen component category,
// available units and days of supply per governorate and ABO/RhD
// group coloured by phase (GET /api/supply), the country totals, the units
// expiring soon with their suggested transfers (GET /api/expiring) and the
// engine's health (GET /health). English or Arabic (right-to-left), chosen
// with a toggle, `?lang=en|ar`, and remembered in the browser's localStorage;
// `?category=` picks the category.
//
// The page holds no rule of its own: phases, days of supply and suggestions
// all come from the API, so the page and the API cannot disagree.
//
// The page is written as files in engine/server/dashboard/ (index.html,
// dashboard.css, dashboard.js, and messages.js, the message catalogues it
// shares with the station page) and embedded at build time with the style and
// the script inline (engine/server/embed_page.cmake), so the binary
// needs no files at run time.
//
// Thread-safe: the text is a constant with static storage duration.
#pragma once

#include <string_view>

namespace hemoledger {

// The page, UTF-8 HTML.
std::string_view dashboard_page();

}  // namespace hemoledger
