// The printable report page served at `GET /report?period=&scope=&lang=`: one
// self-contained HTML page (CSS and vanilla JavaScript inline) that reads
// GET /api/reports and lays the figures out for A4 paper, in English or
// Arabic (right-to-left), with SVG charts (trend lines of the last months,
// wastage by reason) and a link to the same figures as CSV. A ministry
// director prints it, or saves it as PDF, from the browser.
//
// The page holds no rule of its own: every figure comes from the API
// (engine/queries/reports.h, docs/reports.md). Written as files in
// engine/server/report/ and embedded at build time
// (engine/server/embed_page.cmake), with the message catalogues of
// engine/server/dashboard/messages.js. Thread-safe: a constant.
#pragma once

#include <string_view>

namespace hemoledger {

// The page, UTF-8 HTML.
std::string_view report_page();

}  // namespace hemoledger
