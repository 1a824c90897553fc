// Vein to vein at run time: a unit's whole life across a governorate blood
// bank, its laboratory and a hospital, through the API and through HL7 sent
// with Debian's mllp_send; the unsafe variants refused with their reasons; a
// TRALI report that holds the sibling plasma at another bank; a reaction as a
// FHIR AdverseEvent.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>

#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

// The events and messages below are dated 2026-11-22 and 23.
const TestClock kClock("2026-11-23T12:00:00Z");

const std::string kRed = "E0382V00", kPlasma = "E2555V00";

struct Engine {
  TempDir dir;
  int http = free_port(), mllp = free_port();
  std::unique_ptr<Child> serve;

  Engine() {
    serve = std::make_unique<Child>(
        with_clock(
            std::vector<std::string>{HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data",
                                     "--listen", "127.0.0.1:" + std::to_string(http), "--mllp",
                                     "127.0.0.1:" + std::to_string(mllp)},
            kClock),
        std::vector<std::string>{}, dir.path() + "/serve.log");
    if (!wait_for_api(http, 30))
      FAIL("the engine did not start: " + read_file(dir.path() + "/serve.log"));
  }

  // POSTs `body` to `path`; the status and the answer.
  std::pair<int, json> post(const std::string& path, const json& body) const {
    httplib::Client c("127.0.0.1", http);
    c.set_read_timeout(60);
    auto r = c.Post(path.c_str(), body.dump(), "application/json");
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  void applied(const json& event) const {
    const auto [status, answer] = post("/api/events", event);
    INFO(event.dump() << " -> " << answer.dump());
    REQUIRE(status == 200);
  }
  // The code of the refusal of `event` (422), or what happened instead.
  std::string refused(const json& event) const {
    const auto [status, answer] = post("/api/events", event);
    INFO(event.dump() << " -> " << status << " " << answer.dump());
    CHECK(status == 422);
    CHECK(answer.value("message", "").size() > 20);
    return answer.value("code", "");
  }
  // Stops the engine and checks that a replay of its journal reproduces its
  // live state and alerts (hemoledger rebuild --check); true when it does.
  bool rebuild_matches() {
    serve->signal(SIGTERM);
    REQUIRE(serve->wait_for(30));
    const std::string log = dir.path() + "/rebuild.log";
    Child check({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", dir.path() + "/data"}, {},
                log);
    const int st = check.wait();
    INFO(read_file(log));
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  json unit(const std::string& din, const std::string& product) const {
    auto u = get_json(http, "/api/units/" + din + "/" + product);
    REQUIRE(u);
    return *u;
  }
};

json event(const std::string& type, const std::string& at, const std::string& facility,
           const std::string& din, const std::string& product = "") {
  json e = {{"type", type}, {"at", at}, {"facility", facility}, {"din", din}};
  if (!product.empty()) e["product"] = product;
  return e;
}

// Collected and produced at NBS-BB, typed and screened at NBS-LAB, released at NBS-BB.
void collected_tested_released(const Engine& s, const std::string& din, const std::string& group) {
  json c = event("DonationCollected", "2026-11-22T06:00:00Z", "NBS-BB", din);
  c["donor"] = "DNR-" + din.substr(7);
  c["abo_rh"] = group;
  s.applied(c);
  for (const auto& p : {kRed, kPlasma}) {
    s.applied(event("ComponentProduced", "2026-11-22T07:00:00Z", "NBS-BB", din, p));
  }
  const std::vector<std::pair<std::string, std::string>> results = {{"abo_rh", group},
                                                                    {"hiv", "negative"},
                                                                    {"hbv", "negative"},
                                                                    {"hcv", "negative"},
                                                                    {"syphilis", "negative"}};
  for (const auto& [test, result] : results) {
    json t = event("TestResulted", "2026-11-22T09:00:00Z", "NBS-LAB", din);
    t["test"] = test;
    t["result"] = result;
    s.applied(t);
  }
  for (const auto& p : {kRed, kPlasma}) {
    s.applied(event("UnitReleased", "2026-11-22T10:00:00Z", "NBS-BB", din, p));
  }
}

json issue(const std::string& din, const std::string& product, const std::string& at,
           const std::string& group) {
  json i = event("UnitIssued", at, "NBS-BB", din, product);
  i["to"] = "NBS-HOS";
  i["patient"] = "PAT-4411";
  if (!group.empty()) i["patient_abo_rh"] = group;
  return i;
}

struct Ack {
  std::string code, control;
};

std::vector<Ack> mllp_send(const Engine& s, const std::string& messages) {
  const std::string file = s.dir.path() + "/batch.hl7", out = s.dir.path() + "/acks.txt";
  std::ofstream(file) << messages;
  std::remove(out.c_str());
  Child send({"/usr/bin/mllp_send", "--loose", "--file", file, "--port", std::to_string(s.mllp),
              "127.0.0.1"},
             {}, out);
  const int st = send.wait();
  REQUIRE((WIFEXITED(st) && WEXITSTATUS(st) == 0));
  const std::string printed = read_file(out);
  UNSCOPED_INFO("mllp_send printed: " << printed);
  std::vector<Ack> acks;
  static const std::regex msa(R"(MSA\|([A-Z]{2})\|([^|\r]*))");
  for (auto it = std::sregex_iterator(printed.begin(), printed.end(), msa);
       it != std::sregex_iterator(); ++it) {
    acks.push_back({(*it)[1], (*it)[2]});
  }
  return acks;
}

}  // namespace

TEST_CASE("a unit's whole life runs from a governorate bank to the hospital that transfuses it",
          "[engine][bedside]") {
  Engine s;
  const std::string din = "G123426200001";
  collected_tested_released(s, din, "A+");
  s.applied(issue(din, kRed, "2026-11-23T08:00:00Z", "A+"));
  json u = s.unit(din, kRed)["unit"];
  CHECK(u["holder"] == "NBS-HOS");
  CHECK(u["issued_by"] == "NBS-BB");
  CHECK(u["patient"] == "PAT-4411");
  CHECK(u["status"] == "issued");

  json t = event("UnitTransfused", "2026-11-23T09:00:00Z", "NBS-HOS", din, kRed);
  t["patient"] = "PAT-4411";
  s.applied(t);
  u = s.unit(din, kRed)["unit"];
  CHECK(u["status"] == "transfused");
  CHECK(u["issued_by"] == "NBS-BB");
  const json history = s.unit(din, kRed)["history"];
  std::set<std::string> facilities;
  for (const auto& h : history) facilities.insert(h["facility"].get<std::string>());
  CHECK(facilities == std::set<std::string>{"NBS-BB", "NBS-LAB", "NBS-HOS"});

  // The issuing bank sees what it issued, and what became of it.
  auto issued = get_json(s.http, "/api/issued?facility=NBS-BB");
  REQUIRE(issued);
  REQUIRE((*issued)["units"].size() == 1);
  CHECK((*issued)["units"][0]["status"] == "transfused");
  CHECK((*issued)["units"][0]["holder"] == "NBS-HOS");
  CHECK((*issued)["unknown_fate"] == 0);
}

TEST_CASE("a unit issued and not accounted for within 24 hours is of unknown fate",
          "[engine][bedside]") {
  Engine s;
  const std::string din = "G123426200008";
  collected_tested_released(s, din, "O+");
  s.applied(issue(din, kRed, "2026-11-22T11:00:00Z", "O+"));  // 25 h before the engine's now
  auto unknown = get_json(s.http, "/api/issued?facility=NBS-BB&fate=unknown");
  REQUIRE(unknown);
  CHECK((*unknown)["unknown_fate"] == 1);
  REQUIRE((*unknown)["units"].size() == 1);
  CHECK((*unknown)["units"][0]["din"] == din);
  // The alert, committed with the batch that moved the event clock past the deadline (the
  // engine's clock stamps each event as Kafka takes it), reaches both the hospital and the bank.
  auto alerts = get_json(s.http, "/api/alerts?kind=unknown_fate&facility=NBS-BB");
  REQUIRE(alerts);
  REQUIRE((*alerts)["alerts"].size() == 1);
  const json fate = (*alerts)["alerts"][0];
  CHECK(fate["facility"] == "NBS-HOS");
  CHECK(fate["notify"] == json::array({"NBS-BB"}));
  json t = event("UnitTransfused", "2026-11-23T11:30:00Z", "NBS-HOS", din, kRed);
  s.applied(t);
  auto after = get_json(s.http, "/api/alerts?kind=unknown_fate");
  REQUIRE(after);
  CHECK((*after)["alerts"].empty());
}

TEST_CASE("the unsafe variants of the bedside are refused with their reasons",
          "[engine][bedside]") {
  Engine s;
  const std::string a = "G123426200002", o = "G123426200003";
  collected_tested_released(s, a, "A+");
  collected_tested_released(s, o, "O+");
  // An issue without the patient's group that is not an emergency release.
  CHECK(s.refused(issue(a, kRed, "2026-11-23T08:00:00Z", "")) == "missing_patient_group");
  // An emergency release of group A red cells.
  json emergency = issue(a, kRed, "2026-11-23T08:00:00Z", "");
  emergency["emergency"] = true;
  emergency["reason"] = "massive haemorrhage";
  emergency["approver"] = "Dr. Rania Haddad";
  CHECK(s.refused(emergency) == "emergency_group");
  // The same for group O red cells is accepted, and raises a red alert.
  emergency["din"] = o;
  s.applied(emergency);
  auto alerts = get_json(s.http, "/api/alerts?kind=emergency_release");
  REQUIRE(alerts);
  REQUIRE((*alerts)["alerts"].size() == 1);
  CHECK((*alerts)["alerts"][0]["severity"] == "red");
  // A transfusion recorded by the bank after custody passed.
  s.applied(issue(a, kRed, "2026-11-23T08:10:00Z", "A+"));
  CHECK(s.refused(event("UnitTransfused", "2026-11-23T09:00:00Z", "NBS-BB", a, kRed)) ==
        "facility_role");
  json discard = event("UnitDiscarded", "2026-11-23T09:00:00Z", "NBS-BB", a, kRed);
  discard["reason"] = "other";
  CHECK(s.refused(discard) == "not_holder");
  // Thawed plasma returned to frozen stock.
  s.applied(issue(a, kPlasma, "2026-11-23T08:00:00Z", "A+"));
  CHECK(s.refused(event("UnitReturned", "2026-11-23T10:00:00Z", "NBS-HOS", a, kPlasma)) ==
        "thawed_no_refreeze");
  s.applied(event("UnitThawed", "2026-11-23T10:00:00Z", "NBS-HOS", a, kPlasma));
  s.applied(event("UnitReturned", "2026-11-23T10:05:00Z", "NBS-HOS", a, kPlasma));
  json plasma = s.unit(a, kPlasma)["unit"];
  CHECK(plasma["status"] == "available");
  CHECK(plasma["holder"] == "NBS-BB");
  CHECK(plasma["expires_at"] == "2026-11-24T10:00:00Z");
  auto pick = get_json(s.http, "/api/pick?facility=NBS-BB&category=plasma");
  REQUIRE(pick);
  REQUIRE((*pick)["units"].size() == 2);
  CHECK((*pick)["units"][0]["thawed"] == true);  // first to expire, and marked thawed
  auto stock = get_json(s.http, "/api/stock?facility=NBS-BB&category=plasma");
  REQUIRE(stock);
  const json cells = (*stock)["governorates"][0]["facilities"][0]["stock"];
  CHECK(cells["thawed_plasma"]["A+"]["available"] == 1);
  CHECK(cells["plasma"]["O+"]["available"] == 1);
  // A hospital collecting a donation.
  json c = event("DonationCollected", "2026-11-23T08:00:00Z", "NBS-HOS", "G123426200004");
  c["donor"] = "DNR-200004";
  CHECK(s.refused(c) == "facility_role");
  CHECK(s.rebuild_matches());
}

TEST_CASE("a TRALI report holds the sibling plasma at another bank and alerts it",
          "[engine][bedside]") {
  Engine s;
  const std::string din = "G123426200005";
  collected_tested_released(s, din, "O+");
  json out = event("TransferDispatched", "2026-11-22T11:00:00Z", "NBS-BB", din, kPlasma);
  out["to"] = "GZA-BB";
  s.applied(out);
  s.applied(event("TransferReceived", "2026-11-22T15:00:00Z", "GZA-BB", din, kPlasma));
  s.applied(issue(din, kRed, "2026-11-23T08:00:00Z", "O+"));
  json t = event("UnitTransfused", "2026-11-23T08:30:00Z", "NBS-HOS", din, kRed);
  s.applied(t);

  // The hospital reports the reaction as a FHIR AdverseEvent.
  const json ae = {
      {"resourceType", "AdverseEvent"},
      {"id", "ae-77"},
      {"actuality", "actual"},
      {"event", {{"coding", json::array({{{"code", "trali"}}})}}},
      {"subject", {{"reference", "Patient/PAT-4411"}}},
      {"date", "2026-11-23T09:00:00Z"},
      {"recordedDate", "2026-11-23T09:30:00Z"},
      {"location", {{"reference", "Location/NBS-HOS"}}},
      {"seriousness", {{"coding", json::array({{{"code", "life-threatening"}}})}}},
      {"suspectEntity",
       json::array(
           {{{"instance", {{"reference", "BiologicallyDerivedProduct/" + din + "-" + kRed}}},
             {"causality",
              json::array(
                  {{{"assessment", {{"coding", json::array({{{"code", "Probable"}}})}}}}})}}})}};
  const auto [status, oo] = s.post("/api/fhir/AdverseEvent", ae);
  INFO(oo.dump());
  REQUIRE(status == 200);
  CHECK(oo["resourceType"] == "OperationOutcome");
  CHECK(oo["issue"][0]["severity"] == "information");

  json plasma = s.unit(din, kPlasma);
  CHECK(plasma["unit"]["status"] == "quarantined");
  CHECK(plasma["unit"]["holder"] == "GZA-BB");
  REQUIRE(plasma["reactions"].size() == 0);  // the reaction names the red cells
  const json red = s.unit(din, kRed);
  REQUIRE(red["reactions"].size() == 1);
  CHECK(red["reactions"][0]["reaction"] == "trali");
  CHECK(red["reactions"][0]["severity"] == "life_threatening");
  bool in_history = false;
  for (const auto& h : red["history"]) in_history |= h["type"] == "TransfusionReaction";
  CHECK(in_history);

  auto held = get_json(s.http, "/api/alerts?kind=haemovigilance_hold&facility=GZA-BB");
  REQUIRE(held);
  REQUIRE((*held)["alerts"].size() == 1);
  CHECK((*held)["alerts"][0]["product"] == kPlasma);
  CHECK((*held)["alerts"][0]["severity"] == "red");
  auto reaction = get_json(s.http, "/api/alerts?kind=transfusion_reaction&facility=NBS-BB");
  REQUIRE(reaction);
  REQUIRE((*reaction)["alerts"].size() == 1);  // the issuing bank is told
  CHECK((*reaction)["alerts"][0]["ministry"] == true);
  const auto [release_status, release] =
      s.post("/api/events", event("UnitReleased", "2026-11-23T11:00:00Z", "GZA-BB", din, kPlasma));
  CHECK(release_status == 422);
  CHECK(release["code"] == "haemovigilance_hold");
  // The holds, the reaction and their alerts are projections like any other.
  CHECK(s.rebuild_matches());
}

TEST_CASE("a unit's life runs through HL7 messages sent with mllp_send, from bank to bedside",
          "[engine][bedside][mllp]") {
  Engine s;
  const std::string din = "G123426200006";
  json c = event("DonationCollected", "2026-11-22T06:00:00Z", "NBS-BB", din);
  c["donor"] = "DNR-200006";
  c["abo_rh"] = "B+";
  s.applied(c);
  s.applied(event("ComponentProduced", "2026-11-22T07:00:00Z", "NBS-BB", din, kRed));
  const auto obx = [](const std::string& code, const std::string& value) {
    return "OBX|1|CWE|" + code + "||" + value + "||||||F|||20261122094500+0200\n";
  };
  const std::string oru =
      "MSH|^~\\&|BBLIS|NBSLAB|HEMOLEDGER|NBS-BB|20261122101500+0200||ORU^R01^ORU_R01|V2V1|P|2.5.1\n"
      "PID|1||DNR-200006^^^NBS-BB^DN\n"
      "OBR|1|ORD-V2V1|" +
      din + "^NBSLAB|BBPANEL^Donation typing and screening^L\n" +
      obx("882-1^ABO and Rh group panel^LN", "B POS") + obx("5196-1^HBsAg^LN", "NEG") +
      obx("16128-1^HCV Ab^LN", "Non-reactive") + obx("56888-1^HIV 1+2 Ag+Ab^LN", "NR") +
      obx("SYPH^Syphilis antibody^99NBS", "NEG");
  auto acks = mllp_send(s, oru);
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].code == "AA");
  s.applied(event("UnitReleased", "2026-11-22T12:00:00Z", "NBS-BB", din, kRed));

  // A dispense without the patient's group is refused (AE) with the engine's reason.
  const std::string bare =
      "MSH|^~\\&|BBIS|NBS-BB|HEMOLEDGER|NBS-BB|20261123074000+0200||BPS^O29^BPS_O29|V2V0|P|2.5\n"
      "PID|1||PAT-5120\nPV1|1|I|WARD3^^^NBS-HOSP\n"
      "BPX|1|DS|F|20261123073500+0200|" +
      din + "|" + kRed + "\n";
  acks = mllp_send(s, bare);
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].code == "AE");
  CHECK(s.unit(din, kRed)["unit"]["status"] == "available");

  // The bank dispenses to the hospital's ward for patient PAT-5120 (B+), the hospital transfuses.
  const std::string bps =
      "MSH|^~\\&|BBIS|NBS-BB|HEMOLEDGER|NBS-BB|20261123080000+0200||BPS^O29^BPS_O29|V2V2|P|2.5\n"
      "PID|1||PAT-5120^^^NBS-HOSP^MR\n"
      "PV1|1|I|WARD3^^^NBS-HOSP\n"
      "ORC|SC|TX9001\n"
      "BPO|1|RBC^Red blood cells^HL70575|||1\n"
      "OBX|1|CWE|882-1^ABO and Rh group panel^LN||B POS||||||F\n"
      "BPX|1|DS^Dispensed to patient location^HL70510|F|20261123075500+0200|" +
      din + "^NBS-BB|" + kRed + "^Red cells SAGM^ISBT128\n";
  const std::string bts =
      "MSH|^~\\&|HOSPEMR|NBS-HOS|HEMOLEDGER|NBS-BB|20261123100000+0200||BTS^O31^BTS_O31|V2V3|P|2."
      "5\n"
      "PID|1||PAT-5120^^^NBS-HOSP^MR\n"
      "ORC|SC|TX9001\n"
      "BPO|1|RBC^Red blood cells^HL70575|||1\n"
      "BTX|1|" +
      din + "^NBS-BB|" + kRed +
      "^Red cells SAGM^ISBT128|B+|||||||TX^Transfused^HL70513|F|"
      "20261123093000+0200\n";
  acks = mllp_send(s, bps + bts);
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].code == "AA");
  CHECK(acks[1].code == "AA");
  const json u = s.unit(din, kRed)["unit"];
  CHECK(u["status"] == "transfused");
  CHECK(u["holder"] == "NBS-HOS");
  CHECK(u["issued_by"] == "NBS-BB");
  CHECK(u["patient"] == "PAT-5120");
  CHECK(u["patient_abo_rh"] == "B+");
}
