// The pages embedded at build time (engine/server/embed_page.cmake): the
// files of engine/server/dashboard/ and engine/server/station/ become one
// self-contained page each, the style, the message catalogues and the script
// inline where index.html links them.
#include "engine/server/dashboard_page.h"

#include <catch2/catch.hpp>
#include <string>

#include "engine/server/station_page.h"

using hemoledger::dashboard_page;
using hemoledger::station_page;

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
  // The message catalogues, then the dashboard's script.
  CHECK(count(page, "<script>\n\"use strict\";") == 2);
  CHECK(count(page, "const TEXT = {") == 1);
  CHECK(count(page, "setInterval(refresh, POLL_MS);\n</script>\n") == 1);
  // UTF-8 kept byte for byte (the Arabic toggle), and no NUL from the embedding.
  CHECK(count(page, "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a") >= 1);  // عربي
  CHECK(page.find('\0') == std::string_view::npos);
}

TEST_CASE("the station is served as one page with the dashboard's message catalogues inline",
          "[station][server]") {
  const std::string_view page = station_page();
  CHECK(page.substr(0, 15) == "<!doctype html>");
  CHECK(page.substr(page.size() - 8) == "</html>\n");
  CHECK(count(page, "<link") == 0);
  CHECK(count(page, " src=\"") == 0);
  CHECK(count(page, "<style>\n") == 1);
  // The same catalogues as the dashboard's, once, before the station's script.
  CHECK(count(page, "const TEXT = {") == 1);
  CHECK(page.find("const TEXT = {") < page.find("TEXT.en.station"));
  CHECK(page.find("TEXT.ar.station") < page.find("function scan("));
  CHECK(count(page, "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a") >= 1);  // عربي
  CHECK(page.find('\0') == std::string_view::npos);
}
