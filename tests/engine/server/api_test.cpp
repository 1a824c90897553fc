// `hemoledger serve` on its embedded Kafka, driven from outside: kcat (a Kafka
// client nobody here wrote) produces JSON events, and the HTTP API answers.
#include <catch2/catch.hpp>
#include <fstream>

#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

// The engines here start at a fixed instant: the events below are dated 2026-11-20 and 21.
const TestClock kClock("2026-11-21T12:00:00Z");

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

httplib::Result post(int port, const std::string& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30);
  return c.Post("/api/events", body, "application/json");
}

}  // namespace

TEST_CASE("JSON events produced with kcat to the embedded Kafka show up in the API",
          "[engine][api][kcat]") {
  TempDir dir;
  const int port = free_port();
  const std::string boot = dir.path() + "/bootstrap", log = dir.path() + "/serve.log";
  Child serve(
      with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data", "--listen",
                  "127.0.0.1:" + std::to_string(port), "--bootstrap-file", boot},
                 kClock),
      {}, log);
  REQUIRE(wait_for_api(port, 30));
  const std::string bootstrap = first_line(boot);
  REQUIRE(!bootstrap.empty());

  auto health = get_json(port, "/health");
  REQUIRE(health);
  CHECK((*health)["kafka"]["embedded"] == true);
  CHECK((*health)["kafka"]["bootstrap_servers"] == bootstrap);

  // The documented JSON, one event per line, keyed by DIN, through kcat.
  const std::string din = "G123426000001";
  const std::vector<std::string> lines = {
      R"({"id":"k1","type":"DonationCollected","at":"2026-11-20T08:00:00Z","facility":"JEM-BB","din":"G123426000001","donor":"DNR-1","abo_rh":"O-"})",
      R"({"id":"k2","type":"ComponentProduced","at":"2026-11-20T10:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E0382V00","volume_ml":280})",
      R"({"id":"k3","type":"ComponentProduced","at":"2026-11-20T10:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E2555V00"})",
      R"({"id":"k4","type":"TestResulted","at":"2026-11-20T12:00:00Z","facility":"JEM-LAB","din":"G123426000001","test":"abo_rh","result":"O-"})",
      R"({"id":"k5","type":"TestResulted","at":"2026-11-20T12:00:00Z","facility":"JEM-LAB","din":"G123426000001","test":"hiv","result":"negative"})",
      R"({"id":"k6","type":"TestResulted","at":"2026-11-20T12:00:00Z","facility":"JEM-LAB","din":"G123426000001","test":"hbv","result":"negative"})",
      R"({"id":"k7","type":"TestResulted","at":"2026-11-20T12:00:00Z","facility":"JEM-LAB","din":"G123426000001","test":"hcv","result":"negative"})",
      R"({"id":"k8","type":"TestResulted","at":"2026-11-20T12:00:00Z","facility":"JEM-LAB","din":"G123426000001","test":"syphilis","result":"negative"})",
      R"({"id":"k9","type":"UnitReleased","at":"2026-11-20T13:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E0382V00"})",
  };
  const std::string input = dir.path() + "/events.txt";
  {
    std::ofstream out(input);
    for (const auto& l : lines) out << din << "|" << l << "\n";
  }
  Child kcat(
      {"/usr/bin/kcat", "-b", bootstrap, "-t", "hemoledger.events", "-P", "-K", "|", "-l", input},
      {}, dir.path() + "/kcat.log");
  const int ks = kcat.wait();
  REQUIRE((WIFEXITED(ks) && WEXITSTATUS(ks) == 0));

  int status = 0;
  std::optional<json> unit;
  for (int i = 0; i < 100; ++i) {
    unit = get_json(port, "/api/units/" + din + "/E0382V00", &status);
    if (unit && status == 200 && (*unit)["unit"]["status"] == "available") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(unit);
  CHECK((*unit)["unit"]["status"] == "available");
  CHECK((*unit)["abo_rh"] == "O-");
  CHECK((*unit)["history"].size() == 8);  // collection, production, 5 results, release
  auto stock = get_json(port, "/api/stock?governorate=JEM&abo_rh=O-&status=available");
  REQUIRE(stock);
  CHECK((*stock)["total"] == 1);
  CHECK((*stock)["governorates"][0]["name_ar"] == "القدس");

  SECTION("a dry run answers with the engine's verdict and records nothing") {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Post(
        "/api/events?dry_run=1",
        R"({"id":"d1","type":"UnitIssued","at":"2026-11-21T09:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E2555V00"})",
        "application/json");
    REQUIRE(r);
    CHECK(r->status == 422);
    CHECK(json::parse(r->body)["code"] == "unit_quarantined");
    auto ok = c.Post(
        "/api/events?dry_run=1",
        R"({"id":"d2","type":"UnitIssued","at":"2026-11-21T09:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E0382V00","to":"JEM-HOS","patient":"PAT-31","patient_abo_rh":"O-"})",
        "application/json");
    REQUIRE(ok);
    CHECK(ok->status == 200);
    get_json(port, "/api/events/d2", &status);
    CHECK(status == 404);
    auto still = get_json(port, "/api/units/" + din + "/E0382V00");
    REQUIRE(still);
    CHECK((*still)["unit"]["status"] == "available");
  }
  SECTION("issuing a quarantined unit through the API is refused with its reason") {
    auto r = post(
        port,
        R"({"id":"p1","type":"UnitIssued","at":"2026-11-21T09:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E2555V00"})");
    REQUIRE(r);
    CHECK(r->status == 422);
    const json body = json::parse(r->body);
    CHECK(body["outcome"] == "rejected");
    CHECK(body["code"] == "unit_quarantined");
    auto outcome = get_json(port, "/api/events/p1");
    REQUIRE(outcome);
    CHECK((*outcome)["code"] == "unit_quarantined");
  }
  SECTION("a compatible issue through the API is applied and moves the stock") {
    auto r = post(
        port,
        R"({"type":"UnitIssued","at":"2026-11-21T09:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E0382V00","to":"JEM-HOS","patient":"PAT-31","patient_abo_rh":"A-"})");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(json::parse(r->body)["outcome"] == "applied");
    auto after = get_json(port, "/api/stock?facility=JEM-HOS&status=issued");
    REQUIRE(after);
    CHECK((*after)["total"] == 1);
  }
  SECTION("an issue without the patient's group is refused with its reason") {
    auto r = post(
        port,
        R"({"type":"UnitIssued","at":"2026-11-21T09:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E0382V00","to":"JEM-HOS","patient":"PAT-31"})");
    REQUIRE(r);
    CHECK(r->status == 422);
    CHECK(json::parse(r->body)["code"] == "missing_patient_group");
  }
  SECTION("an event in an older schema version is refused at the door") {
    auto r = post(
        port,
        R"({"type":"UnitIssued","schema_version":2,"at":"2026-11-21T09:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E0382V00"})");
    REQUIRE(r);
    CHECK(r->status == 422);
    CHECK(json::parse(r->body)["code"] == "outdated_schema");
  }
  SECTION("an incompatible patient is refused") {
    auto r = post(
        port,
        R"({"type":"UnitIssued","at":"2026-11-21T09:00:00Z","facility":"JEM-BB","din":"G123426000001","product":"E2555V00","patient_abo_rh":"A+"})");
    REQUIRE(r);
    CHECK(r->status == 422);
  }
  SECTION("malformed JSON is refused before it reaches Kafka") {
    auto r = post(port, R"({"type":"UnitIssued","at":"yesterday"})");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["outcome"] == "invalid");
    auto bad_filter = get_json(port, "/api/stock?abo_rh=Q+", &status);
    CHECK(status == 400);
  }
  SECTION("metrics count what was applied") {
    httplib::Client c("127.0.0.1", port);
    auto m = c.Get("/metrics");
    REQUIRE(m);
    CHECK_THAT(m->body, Catch::Contains("hemoledger_events_applied_total 9"));
  }

  serve.signal(SIGTERM);
  REQUIRE(serve.wait_for(30));
  const int ss = serve.wait();
  CHECK((WIFEXITED(ss) && WEXITSTATUS(ss) == 0));
}
