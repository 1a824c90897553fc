// The printable report, end to end: `hemoledger serve` with a month of events
// from three Jenin donations, its figures as CSV from GET /api/reports, and the
// page at /report printed to PDF by headless Chromium in English and in
// Arabic; poppler's pdftotext then reads the figures off the paper.
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>

#include "projections/demand.h"
#include "tests/engine/chromium_support.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

std::string g_report_token;

void post(int port, const json& event) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30);
  c.set_bearer_token_auth(g_report_token.c_str());
  auto r = c.Post("/api/events", event.dump(), "application/json");
  INFO("event " << event.dump());
  REQUIRE(r);
  INFO("answer " << r->status << " " << r->body);
  REQUIRE(r->status == 200);
}

// A Jenin donation of `type`, its red cells typed, screened, released three
// hours after collection; discarded as a broken bag the next day if `broken`.
void donation(int port, const std::string& din, const std::string& type, TimeMs at, bool broken) {
  int n = 0;
  auto event = [&](const char* t, const std::string& facility, TimeMs when) {
    return json{{"id", "rp-" + din + "-" + std::to_string(++n)},
                {"type", t},
                {"at", format_rfc3339(when)},
                {"facility", facility},
                {"din", din}};
  };
  json c = event("DonationCollected", "JEN-BB", at);
  c["donor"] = "DNR-" + din;
  c["abo_rh"] = "A+";
  c["donation_type"] = type;
  post(port, c);
  json p = event("ComponentProduced", "JEN-BB", at + kHour);
  p["product"] = "E0382V00";
  post(port, p);
  for (auto [test, result] :
       {std::pair{"abo_rh", "A+"}, std::pair{"hiv", "negative"}, std::pair{"hbv", "negative"},
        std::pair{"hcv", "negative"}, std::pair{"syphilis", "negative"}}) {
    json t = event("TestResulted", "JEN-LAB", at + 2 * kHour);
    t["test"] = test;
    t["result"] = result;
    post(port, t);
  }
  json r = event("UnitReleased", "JEN-BB", at + 3 * kHour);
  r["product"] = "E0382V00";
  post(port, r);
  if (broken) {
    json d = event("UnitDiscarded", "JEN-BB", at + 3 * kHour + kMinute);
    d["product"] = "E0382V00";
    d["reason"] = "broken_bag";
    post(port, d);
  }
}

std::string pdf_text(const std::string& pdf) {
  return run_command("pdftotext -layout '" + pdf + "' - 2>&1");
}

}  // namespace

TEST_CASE(
    "a month's report for one governorate downloads as CSV and prints to PDF with its figures "
    "in English and Arabic",
    "[reports][chromium]") {
  if (!std::filesystem::exists(kChromium)) FAIL("headless Chromium is missing at " << kChromium);
  TempDir dir;
  const int port = free_port();
  const std::string tokens = dir.path() + "/tokens.json";
  g_report_token = new_token(tokens, "ministry", "admin");
  Child serve(with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data",
                          "--listen", "127.0.0.1:" + std::to_string(port), "--tokens", tokens}),
              {}, dir.path() + "/serve.log");
  REQUIRE(wait_for_api(port, 30));
  // Early in the test clock's month, so that every event lies in it.
  const TimeMs now = test_clock().now();
  const std::int64_t today = day_of(now);
  const TimeMs month_start = (today - civil_from_days(today).d + 1) * kDay;
  const TimeMs at = month_start + 2 * kHour;
  donation(port, "G123426500001", "voluntary", at, false);
  donation(port, "G123426500002", "voluntary", at + kHour, false);
  donation(port, "G123426500003", "replacement", at + 2 * kHour, true);
  const std::string period = format_rfc3339(at).substr(0, 7);

  // The figures as CSV, to download.
  httplib::Client c("127.0.0.1", port);
  c.set_bearer_token_auth(g_report_token.c_str());
  auto csv = c.Get(("/api/reports?period=" + period + "&scope=JEN&format=csv").c_str());
  REQUIRE(csv);
  REQUIRE(csv->status == 200);
  CHECK_THAT(csv->get_header_value("Content-Type"), Catch::Contains("text/csv"));
  CHECK_THAT(csv->get_header_value("Content-Disposition"),
             Catch::Contains("hemoledger-report-" + period + "-JEN.csv"));
  CHECK_THAT(csv->body, Catch::Contains("\ndonations.total,3\n"));
  CHECK_THAT(csv->body, Catch::Contains("\ndonations.by_type.voluntary,2\n"));
  CHECK_THAT(csv->body, Catch::Contains("\nunits.discarded.red_cells.broken_bag,1\n"));
  CHECK_THAT(csv->body, Catch::Contains("\ncollection_to_release.median_hours,3.0\n"));

  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/report?period=" + period +
                          "&scope=JEN&token=" + g_report_token;
  {  // English
    const std::string pdf = dir.path() + "/report-en.pdf";
    chromium({"--print-to-pdf=" + pdf, "--no-pdf-header-footer"}, url, dir.path(), "pdf-en");
    REQUIRE(std::filesystem::exists(pdf));
    CHECK(read_file(pdf).substr(0, 5) == "%PDF-");
    const std::string text = pdf_text(pdf);
    INFO(text);
    CHECK_THAT(text, Catch::Contains("Blood transfusion service: performance report"));
    CHECK_THAT(text, Catch::Contains("Jenin"));
    CHECK_THAT(text, Catch::Contains(period));
    // The figures: cards, tables and the charts' labels.
    CHECK(std::regex_search(text, std::regex(R"(Voluntary\s+2\b)")));
    CHECK(std::regex_search(text, std::regex(R"(Replacement\s+1\b)")));
    CHECK(std::regex_search(text, std::regex(R"(Red cells\s+3\s+0\s+0\s+0\s+0\s+1\s+33\.3 %)")));
    CHECK_THAT(text, Catch::Contains("Donations collected"));
    CHECK_THAT(text, Catch::Contains("Wastage by reason"));
    CHECK(std::regex_search(text, std::regex(R"(Broken or leaking bag\s+1\b)")));
    CHECK_THAT(text, Catch::Contains("Trend of the last months"));
  }
  {  // Arabic
    const std::string pdf = dir.path() + "/report-ar.pdf";
    chromium({"--print-to-pdf=" + pdf, "--no-pdf-header-footer"}, url + "&lang=ar", dir.path(),
             "pdf-ar");
    REQUIRE(std::filesystem::exists(pdf));
    const std::string text = pdf_text(pdf);
    INFO(text);
    CHECK_THAT(text, Catch::Contains("جنين"));
    CHECK_THAT(text, Catch::Contains("الكريات الحمراء"));
    CHECK_THAT(text, Catch::Contains("33.3"));  // the wastage rate (bidi marks split off the %)
    CHECK_THAT(text, Catch::Contains(period));
  }
  serve.signal(SIGTERM);
  REQUIRE(serve.wait_for(30));
}
