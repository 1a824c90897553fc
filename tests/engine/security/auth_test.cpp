// Who may do what (docs/security.md), end to end: `hemoledger token new`
// makes the tokens, `hemoledger serve --tokens` enforces them over HTTP (and
// HTTPS), the MLLP link is bound to one lab, and `hemoledger audit` reads the
// actors back from the journal.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "connectors/isbt128.h"
#include "engine/io/clock.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"
#include "tests/engine/tls_support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

// The engines here start at a fixed instant: the messages and events below are dated 2026-11-22.
const TestClock kClock("2026-11-22T12:00:00Z");

struct Reply {
  int status = 0;  // 0: no answer
  json body;
};

template <typename Client>
Reply call(Client& c, const std::string& method, const std::string& path, const std::string& token,
           const std::string& body = "") {
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  c.set_read_timeout(30);
  auto r =
      method == "GET" ? c.Get(path.c_str(), h) : c.Post(path.c_str(), h, body, "application/json");
  if (!r) return {};
  return {r->status, json::parse(r->body, nullptr, false)};
}

Reply call(int port, const std::string& method, const std::string& path, const std::string& token,
           const std::string& body = "") {
  httplib::Client c("127.0.0.1", port);
  return call(c, method, path, token, body);
}

const std::string kDin = "G123426000101", kRed = "E0382V00";

std::string collected(const std::string& id, const std::string& facility) {
  return R"({"id":")" + id +
         R"(","type":"DonationCollected","at":"2026-11-22T06:00:00Z","facility":")" + facility +
         R"(","din":")" + kDin + R"(","donor":"DNR-101","abo_rh":"O-","station":"bench-3"})";
}
std::string produced(const std::string& id) {
  return R"({"id":")" + id +
         R"(","type":"ComponentProduced","at":"2026-11-22T07:00:00Z","facility":"JEM-BB","din":")" +
         kDin + R"(","product":")" + kRed + R"("})";
}
std::string unit_event(const std::string& id, const std::string& type, const std::string& facility,
                       const std::string& extra = "") {
  return R"({"id":")" + id + R"(","type":")" + type +
         R"(","at":"2026-11-22T09:00:00Z","facility":")" + facility + R"(","din":")" + kDin +
         R"(","product":")" + kRed + "\"" + extra + "}";
}
std::string result(const std::string& id, const std::string& facility, const std::string& test,
                   const std::string& value) {
  return R"({"id":")" + id + R"(","type":"TestResulted","at":"2026-11-22T08:00:00Z","facility":")" +
         facility + R"(","din":")" + kDin + R"(","test":")" + test + R"(","result":")" + value +
         "\"}";
}

// An engine on the embedded Kafka with a token file of four tokens.
struct SecureEngine {
  TempDir dir;
  int port = free_port(), mllp = free_port();
  std::string tokens_file = dir.path() + "/tokens.json";
  std::map<std::string, std::string> token;  // name -> token
  std::unique_ptr<Child> serve;

  // With `mllp_lab`, an MLLP link on port `mllp` bound to that lab.
  explicit SecureEngine(std::vector<std::string> extra = {}, const std::string& mllp_lab = "") {
    add("jem-bench", "station", "JEM-BB");
    add("jem-lab", "lab", "JEM-LAB");
    add("coordinator", "coordinator", "");
    add("root", "admin", "");
    std::vector<std::string> args = {HEMOLEDGER_BINARY, "serve",
                                     "--data-dir",      data(),
                                     "--listen",        "127.0.0.1:" + std::to_string(port),
                                     "--tokens",        tokens_file};
    args.insert(args.end(), extra.begin(), extra.end());
    if (!mllp_lab.empty()) {
      for (const auto& a : std::vector<std::string>{"--mllp", "127.0.0.1:" + std::to_string(mllp),
                                                    "--mllp-lab", mllp_lab}) {
        args.push_back(a);
      }
    }
    serve = std::make_unique<Child>(with_clock(args, kClock), std::vector<std::string>{},
                                    dir.path() + "/serve.log");
  }
  std::string data() const { return dir.path() + "/data"; }
  std::string log() const { return read_file(dir.path() + "/serve.log"); }
  void wait_up() {
    if (!wait_for_api(port, 30)) FAIL("the engine did not start: " + log());
  }

  // `hemoledger token new`: the token is the line of standard output.
  void add(const std::string& name, const std::string& role, const std::string& facility) {
    token[name] = new_token(tokens_file, name, role, facility);
  }

  Reply post(const std::string& who, const std::string& body) {
    return call(port, "POST", "/api/events", token.at(who), body);
  }
};

}  // namespace

TEST_CASE(
    "without a token or with an unknown one the API answers 401, and /health and the "
    "dashboard page need none",
    "[auth][api]") {
  SecureEngine e;
  e.wait_up();
  CHECK(call(e.port, "GET", "/health", "").status == 200);
  CHECK(call(e.port, "GET", "/", "").status == 200);

  for (const auto& path :
       std::vector<std::string>{"/api/stock", "/api/units/" + kDin, "/metrics", "/api/alerts"}) {
    INFO(path);
    const Reply none = call(e.port, "GET", path, "");
    CHECK(none.status == 401);
    CHECK(none.body["code"] == "missing_token");
    CHECK(!none.body["message"].get<std::string>().empty());
    CHECK(call(e.port, "GET", path, "hl_0000").body["code"] == "unknown_token");
  }
  const Reply post = call(e.port, "POST", "/api/events", "", collected("a1", "JEM-BB"));
  CHECK(post.status == 401);
  CHECK(call(e.port, "GET", "/api/events/a1", e.token["root"]).status == 404);

  // Every role reads everything.
  for (const auto& [name, t] : e.token) {
    INFO(name);
    CHECK(call(e.port, "GET", "/api/stock", t).status == 200);
  }
  // The log names no token.
  for (const auto& [name, t] : e.token) CHECK(e.log().find(t) == std::string::npos);
}

TEST_CASE(
    "a station token writes its own facility's unit events with its name as the actor, and "
    "is refused another facility's with 403 and nothing produced",
    "[auth][api]") {
  SecureEngine e;
  e.wait_up();
  const Reply ok = e.post("jem-bench", collected("s1", "JEM-BB"));
  INFO(ok.body.dump());
  REQUIRE(ok.status == 200);
  CHECK(ok.body["outcome"] == "applied");

  const Reply applied = call(e.port, "GET", "/api/events/s1", e.token["jem-bench"]);
  REQUIRE(applied.status == 200);
  CHECK(applied.body["event"]["actor"] == "jem-bench");
  CHECK(applied.body["event"]["station"] == "bench-3");  // the client's station is kept

  const Reply other = e.post("jem-bench", collected("s2", "GZA-BB"));
  CHECK(other.status == 403);
  CHECK(other.body["code"] == "wrong_facility");
  CHECK(other.body["message"].get<std::string>().find("JEM-BB") != std::string::npos);
  CHECK(call(e.port, "GET", "/api/events/s2", e.token["root"]).status == 404);
  // A dry run of it is refused the same way.
  CHECK(
      call(e.port, "POST", "/api/events?dry_run=1", e.token["jem-bench"], collected("s3", "GZA-BB"))
          .status == 403);
  // A result is a lab's to write, even at the station's own facility.
  CHECK(e.post("jem-bench", result("s4", "JEM-BB", "hiv", "negative")).status == 403);
  // The refusal is logged with the token's name.
  const std::string log = e.log();
  CHECK(log.find("refused for token jem-bench") != std::string::npos);
  CHECK(log.find(e.token["jem-bench"]) == std::string::npos);
}

TEST_CASE(
    "a coordinator dispatches a transfer, and a lab token posts a result for its own lab but "
    "no UnitIssued and no other lab's result",
    "[auth][api]") {
  SecureEngine e;
  e.wait_up();
  REQUIRE(e.post("jem-bench", collected("c1", "JEM-BB")).status == 200);
  REQUIRE(e.post("jem-bench", produced("c2")).status == 200);

  const Reply lab = e.post("jem-lab", result("c3", "JEM-LAB", "abo_rh", "O-"));
  INFO(lab.body.dump());
  CHECK(lab.status == 200);
  CHECK(e.post("jem-lab", result("c4", "NBS-LAB", "hiv", "negative")).status == 403);
  const Reply issue =
      e.post("jem-lab", unit_event("c5", "UnitIssued", "JEM-LAB", R"(,"patient_abo_rh":"O-")"));
  CHECK(issue.status == 403);
  CHECK(issue.body["code"] == "wrong_role");
  for (const char* test : {"hiv", "hbv", "hcv", "syphilis"}) {
    REQUIRE(
        e.post("jem-lab", result(std::string("c-") + test, "JEM-LAB", test, "negative")).status ==
        200);
  }
  REQUIRE(e.post("jem-bench", unit_event("c6", "UnitReleased", "JEM-BB")).status == 200);

  // The coordinator may not issue, but may move the unit between banks.
  CHECK(e.post("coordinator", unit_event("c7", "UnitIssued", "JEM-BB", R"(,"patient_abo_rh":"O-")"))
            .status == 403);
  const Reply sent =
      e.post("coordinator", unit_event("c8", "TransferDispatched", "JEM-BB", R"(,"to":"RBH-BB")"));
  INFO(sent.body.dump());
  CHECK(sent.status == 200);
  const Reply got = e.post("coordinator", unit_event("c9", "TransferReceived", "RBH-BB"));
  CHECK(got.status == 200);
  const Reply unit = call(e.port, "GET", "/api/units/" + kDin + "/" + kRed, e.token["jem-lab"]);
  REQUIRE(unit.status == 200);
  CHECK(unit.body["unit"]["holder"] == "RBH-BB");
  CHECK(call(e.port, "GET", "/api/events/c9", e.token["jem-bench"]).body["event"]["actor"] ==
        "coordinator");

  // Lab messages over HTTP take a lab token.
  CHECK(call(e.port, "POST", "/api/fhir/Observation", e.token["jem-bench"], "{}").status == 403);
}

TEST_CASE("hemoledger audit lists a unit's events with their actors, and the rejections",
          "[auth][audit]") {
  SecureEngine e;
  e.wait_up();
  REQUIRE(e.post("jem-bench", collected("u1", "JEM-BB")).status == 200);
  REQUIRE(e.post("jem-bench", produced("u2")).status == 200);
  REQUIRE(e.post("jem-lab", result("u3", "JEM-LAB", "abo_rh", "O-")).status == 200);
  // Still in quarantine: the engine rejects the issue, and says who tried.
  const Reply refused =
      e.post("root", unit_event("u4", "UnitIssued", "JEM-BB", R"(,"patient_abo_rh":"O-")"));
  REQUIRE(refused.status == 422);

  const std::string out = run_command(std::string(HEMOLEDGER_BINARY) + " audit " + kDin + " " +
                                      kRed + " --data-dir " + e.data() + " --json 2>/dev/null");
  const json a = json::parse(out, nullptr, false);
  INFO(out);
  REQUIRE(a.is_object());
  const json& rows = a["entries"];
  REQUIRE(rows.size() == 4);
  CHECK(rows[0]["type"] == "DonationCollected");
  CHECK(rows[0]["actor"] == "jem-bench");
  CHECK(rows[0]["station"] == "bench-3");
  CHECK(rows[0]["facility"] == "JEM-BB");
  CHECK(rows[0]["outcome"] == "applied");
  CHECK(rows[1]["type"] == "ComponentProduced");
  CHECK(rows[2]["type"] == "TestResulted");
  CHECK(rows[2]["actor"] == "jem-lab");
  CHECK(rows[3]["type"] == "UnitIssued");
  CHECK(rows[3]["actor"] == "root");
  CHECK(rows[3]["outcome"] == "rejected");
  CHECK(rows[3]["code"] == refused.body["code"]);

  const std::string text = run_command(std::string(HEMOLEDGER_BINARY) + " audit " + kDin +
                                       " --data-dir " + e.data() + " 2>/dev/null");
  CHECK(text.find("jem-lab") != std::string::npos);
  CHECK(text.find("rejected (" + refused.body["code"].get<std::string>() + ")") !=
        std::string::npos);
}

TEST_CASE(
    "an MLLP link bound to one lab over mutual TLS records its results with the certificate's "
    "name as the actor and refuses another lab's with AR",
    "[auth][lab][tls]") {
  // The shipped mapping makes MSH-4 NBSLAB the facility NBS-LAB. An admin
  // certificate speaks for whichever lab the link is bound to.
  TestCerts certs;
  REQUIRE(certs.ok());
  const std::vector<std::string> tls = {"--lab-tls-cert",   certs.server_cert(), "--lab-tls-key",
                                        certs.server_key(), "--lab-client-ca",   certs.ca()};
  SecureEngine wrong(tls, "JEM-LAB");
  SecureEngine right(tls, "NBS-LAB");
  wrong.wait_up();
  right.wait_up();

  const std::string din = "G123426000102";
  const std::string msg =
      "MSH|^~\\&|BBLIS|NBSLAB|HEMOLEDGER|NBS-BB|20261122101500+0200||ORU^R01^ORU_R01|CTL1|P|2.5.1|"
      "||AL|NE\rPID|1||DNR-77^^^NBS-BB^DN\rOBR|1|ORD-1|" +
      din +
      "^NBSLAB|BBPANEL^Donation typing and screening^L|||20261122083000+0200\r"
      "OBX|1|CWE|56888-1^HIV 1+2 Ag+Ab^LN||NEG||||||F|||20261122094500+0200||||ARCHITECT-02\r";
  for (SecureEngine* e : {&right, &wrong}) {
    REQUIRE(
        e->post(
             "root",
             R"({"id":"m1","type":"DonationCollected","at":"2026-11-22T06:00:00Z","facility":"NBS-BB","din":")" +
                 din + R"(","donor":"DNR-77","abo_rh":"O-"})")
            .status == 200);
  }
  auto send = [&](int port) {
    const auto [cert, key] = certs.client("root");
    TlsClient c(port, certs.server_cert(), cert, key);
    return c.exchange("\x0b" + msg + "\x1c\x0d", "\x1c\x0d");
  };
  const std::string wrong_ack = send(wrong.mllp);
  INFO(wrong_ack);
  CHECK(wrong_ack.find("MSA|AR") != std::string::npos);
  CHECK(wrong_ack.find("JEM-LAB only") != std::string::npos);
  const Reply untested = call(wrong.port, "GET", "/api/units/" + din, wrong.token["root"]);
  REQUIRE(untested.status == 200);
  CHECK(untested.body["tests"].empty());

  // A lab's own certificate on a link bound to another lab is refused at
  // connect, before any message is read, and the refusal is on record.
  {
    const auto [cert, key] = certs.client("jem-lab");
    TlsClient c(right.mllp, certs.server_cert(), cert, key);
    CHECK(c.exchange("\x0b" + msg + "\x1c\x0d", "\x1c\x0d").find("MSA") == std::string::npos);
  }
  const Reply refusals = call(right.port, "GET", "/api/audit/refusals", right.token["root"]);
  INFO(refusals.body.dump());
  REQUIRE(refusals.status == 200);
  REQUIRE(refusals.body["refusals"].size() == 1);
  CHECK(refusals.body["refusals"][0]["who"] == "jem-lab");
  CHECK(refusals.body["refusals"][0]["code"] == "wrong_lab");
  CHECK(refusals.body["refusals"][0]["channel"] == "mllp");
  CHECK(refusals.body["refusals"][0]["status"] == 403);

  const std::string right_ack = send(right.mllp);
  INFO(right_ack);
  CHECK(right_ack.find("MSA|AA") != std::string::npos);
  const Reply tested = call(right.port, "GET", "/api/units/" + din, right.token["root"]);
  REQUIRE(tested.status == 200);
  CHECK(!tested.body["tests"].empty());
  const std::string audit = run_command(std::string(HEMOLEDGER_BINARY) + " audit " + din +
                                        " --data-dir " + right.data() + " --json 2>/dev/null");
  const json a = json::parse(audit, nullptr, false);
  REQUIRE(a.is_object());
  bool found = false;
  for (const auto& row : a["entries"]) {
    if (row["type"] == "TestResulted") {
      found = true;
      CHECK(row["actor"] == "root");
      CHECK(row["facility"] == "NBS-LAB");
    }
  }
  CHECK(found);
}

TEST_CASE("a TLS-served API answers over https and refuses plain http", "[auth][tls]") {
  TestCerts certs;
  REQUIRE(certs.ok());
  const std::string cert = certs.server_cert(), key = certs.server_key();
  SecureEngine e({"--tls-cert", cert, "--tls-key", key});
  bool up = false;
  httplib::SSLClient https("127.0.0.1", e.port);
  https.enable_server_certificate_verification(false);
  https.set_connection_timeout(2);
  for (int i = 0; i < 300 && !up; ++i) {
    auto r = https.Get("/health");
    up = r && r->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(up);
  CHECK(call(https, "GET", "/api/stock", e.token["coordinator"]).status == 200);
  CHECK(call(https, "GET", "/api/stock", "").status == 401);
  // The certificate is the one given.
  httplib::SSLClient verified("127.0.0.1", e.port);
  verified.set_ca_cert_path(cert.c_str());
  verified.enable_server_certificate_verification(true);
  auto v = verified.Get("/health");
  CHECK((v && v->status == 200));

  // The station over https, trusting this certificate.
  const std::string din = "G123426000104";
  const std::string label = "=" + din + std::to_string(60 + isbt128::din_check_value(din));
  const std::string scan = run_command(
      "printf '" + label + "\\ndonor:DNR-104\\n' | HEMOLEDGER_TOKEN=" + e.token["jem-bench"] + " " +
      HEMOLEDGER_BINARY + " scan --api https://127.0.0.1:" + std::to_string(e.port) +
      " --ca-cert " + cert + " --facility JEM-BB --action collect" + kClock.arg() + " 2>&1");
  INFO(scan);
  CHECK(scan.find("OK") != std::string::npos);

  httplib::Client plain("127.0.0.1", e.port);
  plain.set_connection_timeout(2);
  plain.set_read_timeout(3);
  auto r = plain.Get("/health");
  CHECK((!r || r->status != 200));
}

TEST_CASE("a station with its token records against a secured engine, and one without is stopped",
          "[auth][station]") {
  SecureEngine e;
  e.wait_up();
  const std::string din = "G123426000103";
  auto scan = [&](const std::string& env) {
    // A collect session: the DIN label (with its check character) and the donor.
    const std::string label = "=" + din + std::to_string(60 + isbt128::din_check_value(din));
    const std::string cmd = "printf '" + label + "\\ndonor:DNR-103\\n' | " + env + " " +
                            HEMOLEDGER_BINARY +
                            " scan --api http://127.0.0.1:" + std::to_string(e.port) +
                            " --facility JEM-BB --action collect" + kClock.arg() + " 2>&1";
    return run_command(cmd);
  };
  const std::string none = scan("env -u HEMOLEDGER_TOKEN");
  INFO(none);
  CHECK(none.find("STOP") != std::string::npos);
  const std::string with = scan("HEMOLEDGER_TOKEN=" + e.token["jem-bench"]);
  INFO(with);
  CHECK(with.find("OK") != std::string::npos);
}

TEST_CASE("ASTM results posted over HTTP take a lab token of the lab the results are from",
          "[auth][lab]") {
  SecureEngine e;
  e.wait_up();
  REQUIRE(e.post("root", collected("l1", "NBS-BB")).status == 200);
  const std::string astm =
      std::string("H|\\^&|||IH-500^BIO-RAD^4.2|||||||P|LIS2-A2|20261122094500\n") +
      "P|1||DNR-101\nO|1|" + kDin +
      "||^^^ABO\\^^^Rh|R||||||||||||||||||||F\n"
      "R|1|^^^ABO|O|||||F||tech1||20261122094000|IH500-01\n"
      "R|2|^^^Rh|NEG|||||F||tech1||20261122094000|IH500-01\nL|1|N\n";
  // The shipped mapping gives ASTM results to NBS-LAB; jem-lab is JEM-LAB's.
  const Reply other = call(e.port, "POST", "/api/lab/astm", e.token["jem-lab"], astm);
  INFO(other.body.dump());
  CHECK(other.status == 403);
  CHECK(other.body["code"] == "wrong_lab");
  CHECK(call(e.port, "POST", "/api/lab/astm", e.token["jem-bench"], astm).status == 403);
  CHECK(call(e.port, "POST", "/api/lab/astm", "", astm).status == 401);
  const Reply unit = call(e.port, "GET", "/api/units/" + kDin, e.token["root"]);
  REQUIRE(unit.status == 200);
  CHECK(unit.body["tests"].empty());

  e.add("nbs-lab", "lab", "NBS-LAB");  // read at start: restart to take it
  e.serve->signal(SIGTERM);
  REQUIRE(e.serve->wait_for(30));
  e.serve = std::make_unique<Child>(
      with_clock(std::vector<std::string>{HEMOLEDGER_BINARY, "serve", "--data-dir", e.data(),
                                          "--listen", "127.0.0.1:" + std::to_string(e.port),
                                          "--tokens", e.tokens_file},
                 kClock),
      std::vector<std::string>{}, e.dir.path() + "/serve2.log");
  e.wait_up();
  const Reply own = call(e.port, "POST", "/api/lab/astm", e.token["nbs-lab"], astm);
  INFO(own.body.dump());
  REQUIRE(own.status == 200);
  const std::string id = own.body["results"][0]["event_id"].get<std::string>();
  CHECK(call(e.port, "GET", "/api/events/" + id, e.token["root"]).body["event"]["actor"] ==
        "nbs-lab");
}

TEST_CASE(
    "a station's write for another facility is refused and on record: hemoledger audit "
    "--refusals and GET /api/audit/refusals list it with who, where from, what and why",
    "[auth][audit][refusals]") {
  SecureEngine e;
  e.wait_up();
  REQUIRE(e.post("jem-bench", collected("z1", "GZA-BB")).status == 403);
  REQUIRE(call(e.port, "GET", "/api/stock", "").status == 401);
  REQUIRE(call(e.port, "GET", "/api/stock", "hl_0000").status == 401);
  REQUIRE(e.post("jem-bench", collected("z2", "JEM-BB")).status == 200);  // not a refusal
  // Only an admin reads the refusals; a station asking is itself refused.
  CHECK(call(e.port, "GET", "/api/audit/refusals", e.token["jem-bench"]).status == 403);

  const Reply listed = call(e.port, "GET", "/api/audit/refusals", e.token["root"]);
  INFO(listed.body.dump(2));
  REQUIRE(listed.status == 200);
  const json& rows = listed.body["refusals"];
  REQUIRE(rows.size() == 4);
  CHECK(rows[0]["who"] == "jem-bench");
  CHECK(rows[0]["status"] == 403);
  CHECK(rows[0]["code"] == "wrong_facility");
  CHECK(rows[0]["method"] == "POST");
  CHECK(rows[0]["path"] == "/api/events");
  CHECK(rows[0]["channel"] == "http");
  CHECK(rows[0]["remote"].get<std::string>().rfind("127.0.0.1", 0) == 0);
  CHECK(rows[0]["reason"].get<std::string>().find("JEM-BB") != std::string::npos);
  CHECK(!rows[0]["at"].get<std::string>().empty());
  CHECK(rows[1]["who"] == "anonymous");
  CHECK(rows[1]["code"] == "missing_token");
  CHECK(rows[1]["status"] == 401);
  CHECK(rows[2]["code"] == "unknown_token");
  CHECK(rows[3]["who"] == "jem-bench");
  CHECK(rows[3]["path"] == "/api/audit/refusals");
  CHECK(rows[3]["code"] == "wrong_role");
  // No token is ever stored.
  CHECK(listed.body.dump().find(e.token["jem-bench"]) == std::string::npos);

  // The command line reads the same record from the data directory, and it
  // survives a restart.
  e.serve->signal(SIGTERM);
  REQUIRE(e.serve->wait_for(30));
  const std::string out =
      run_command(std::string(HEMOLEDGER_BINARY) + " audit --refusals --data-dir " + e.data() +
                  " --json 2>/dev/null");
  const json cli = json::parse(out, nullptr, false);
  INFO(out);
  REQUIRE(cli.is_object());
  CHECK(cli["refusals"] == rows);
  const std::string text = run_command(std::string(HEMOLEDGER_BINARY) +
                                       " audit --refusals --data-dir " + e.data() + " 2>&1");
  CHECK(text.find("wrong_facility") != std::string::npos);
  CHECK(text.find("jem-bench") != std::string::npos);
}
