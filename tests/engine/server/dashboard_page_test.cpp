// The page embedded at build time (engine/server/embed_dashboard.cmake): the
// files of engine/server/dashboard/ become one self-contained page, the style
// and the script inline where index.html links them.
#include "engine/server/dashboard_page.h"

#include <catch2/catch.hpp>
#include <string>

using hemoledger::dashboard_page;

namespace {

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the dashboard is served as one page with its style and script inline",
          "[dashboard][server]") {
  const std::string_view page = dashboard_page();
  CHECK(page.substr(0, 15) == "<!doctype html>");
  CHECK(page.substr(page.size() - 8) == "</html>\n");
  // No link to a file the binary would have to serve.
  CHECK(count(page, "href=\"dashboard.css\"") == 0);
  CHECK(count(page, "src=\"dashboard.js\"") == 0);
  CHECK(count(page, "<link") == 0);
  // The style and the script, once each, with their text.
  CHECK(count(page, "<style>\n:root{") == 1);
  CHECK(count(page, "</style>") == 1);
  CHECK(count(page, "<script>\n\"use strict\";") == 1);
  CHECK(count(page, "setInterval(refresh, POLL_MS);\n</script>\n") == 1);
  // UTF-8 kept byte for byte (the Arabic toggle), and no NUL from the embedding.
  CHECK(count(page, "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a") >= 1);  // عربي
  CHECK(page.find('\0') == std::string_view::npos);
}
