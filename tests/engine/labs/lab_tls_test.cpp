// The lab links over TLS (docs/security.md): `hemoledger serve --mllp --astm`
// with a certificate speaks TLS only, and with a token file it takes mutual
// TLS, the client certificate's CN naming a lab token. Driven by a real
// OpenSSL client and Debian's openssl s_client, with certificates the test
// makes with the openssl command.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/engine/http_support.h"
#include "tests/engine/support.h"
#include "tests/engine/tls_support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

// The engines here start at a fixed instant: the messages and events below are dated 2026-11-22.
const TestClock kClock("2026-11-22T12:00:00Z");

// An ORU^R01 from NBSLAB (the shipped mapping makes it NBS-LAB) with one HIV result.
std::string oru(const std::string& control, const std::string& din) {
  return "MSH|^~\\&|BBLIS|NBSLAB|HEMOLEDGER|NBS-BB|20261122101500+0200||ORU^R01^ORU_R01|" +
         control + "|P|2.5.1|||AL|NE\rPID|1||DNR-77^^^NBS-BB^DN||Saleh^Ahmad\rOBR|1|ORD-1|" + din +
         "^NBSLAB|BBPANEL^Donation typing and screening^L|||20261122083000+0200\r"
         "OBX|1|CWE|56888-1^HIV 1+2 Ag+Ab^LN||NEG||||||F|||20261122094500+0200||||ARCHITECT-02\r";
}
std::string framed(const std::string& m) { return "\x0b" + m + "\x1c\x0d"; }

// `hemoledger serve` on the embedded Kafka with MLLP and ASTM links.
struct LinkEngine {
  TempDir dir;
  int http = free_port(), mllp = free_port(), astm = free_port();
  std::unique_ptr<Child> serve;
  std::string tokens_file = dir.path() + "/tokens.json";
  std::map<std::string, std::string> token;

  void add_token(const std::string& name, const std::string& role, const std::string& facility) {
    token[name] = new_token(tokens_file, name, role, facility);
  }
  void start(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {HEMOLEDGER_BINARY, "serve",
                                     "--data-dir",      data(),
                                     "--listen",        "127.0.0.1:" + std::to_string(http),
                                     "--mllp",          "127.0.0.1:" + std::to_string(mllp),
                                     "--astm",          "127.0.0.1:" + std::to_string(astm)};
    args.insert(args.end(), extra.begin(), extra.end());
    serve = std::make_unique<Child>(with_clock(args, kClock), std::vector<std::string>{},
                                    dir.path() + "/serve.log");
    if (!wait_for_api(http, 30)) FAIL("the engine did not start: " + log());
  }
  std::string data() const { return dir.path() + "/data"; }
  std::string log() const { return read_file(dir.path() + "/serve.log"); }

  void collect(const std::string& din, const std::string& bearer = "") {
    httplib::Client c("127.0.0.1", http);
    c.set_read_timeout(30);
    if (!bearer.empty()) c.set_bearer_token_auth(bearer.c_str());
    auto r = c.Post(
        "/api/events",
        R"({"type":"DonationCollected","at":"2026-11-22T06:00:00Z","facility":"NBS-BB","din":")" +
            din + R"(","donor":"DNR-77","abo_rh":"O-"})",
        "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 200);
  }
  std::size_t tests_of(const std::string& din, const std::string& bearer = "") {
    auto u = get_json(http, "/api/units/" + din, nullptr, bearer);
    return u ? (*u)["tests"].size() : 0;
  }
  json refusals() {
    return json::parse(
        run_command(std::string(HEMOLEDGER_BINARY) + " audit --refusals --data-dir " + data() +
                    " --json 2>/dev/null"),
        nullptr, false);
  }
};

}  // namespace

TEST_CASE(
    "with a certificate the MLLP and ASTM links speak TLS only: a TLS client is answered, a "
    "plaintext client is logged and closed, and the links go on",
    "[lab][tls][mllp][astm]") {
  TestCerts certs;
  REQUIRE(certs.ok());
  LinkEngine e;
  // The lab links' own certificate; the API stays plain HTTP.
  e.start({"--lab-tls-cert", certs.server_cert(), "--lab-tls-key", certs.server_key()});
  const std::string din = "G123426200001";
  e.collect(din);

  {
    TlsClient c(e.mllp, certs.server_cert());
    REQUIRE(c.handshake());
    const std::string ack = c.exchange(framed(oru("TLS1", din)), "\x1c\x0d");
    INFO(ack);
    CHECK(ack.find("MSA|AA|TLS1") != std::string::npos);
  }
  CHECK(e.tests_of(din) == 1);
  // The message is kept under m/ with its answer, but the patient's name
  // (PID-5) is nowhere in the data directory.
  std::string on_disk;
  for (const auto& f : std::filesystem::recursive_directory_iterator(e.data())) {
    if (f.is_regular_file()) on_disk += read_file(f.path().string());
  }
  CHECK(on_disk.find("ORU^R01^ORU_R01|TLS1") != std::string::npos);
  CHECK(on_disk.find("DNR-77^^^NBS-BB^DN||***") != std::string::npos);
  CHECK(on_disk.find("Saleh") == std::string::npos);

  // Plain MLLP on the TLS port: no ACK, the connection is closed, the
  // handshake failure is logged.
  const std::string plain = plain_exchange(e.mllp, framed(oru("PLAIN1", din)));
  CHECK(plain.find("MSA") == std::string::npos);
  CHECK(eventually([&] { return e.log().find("TLS handshake failed") != std::string::npos; }));
  CHECK(e.serve->running());

  // ASTM over TLS: the LIS1-A link answers ENQ with ACK inside TLS.
  {
    TlsClient a(e.astm, certs.server_cert());
    REQUIRE(a.handshake());
    CHECK(a.exchange("\x05", "\x06") == "\x06");
  }
  CHECK(plain_exchange(e.astm, "\x05").find('\x06') == std::string::npos);

  // Debian's openssl s_client sees the configured certificate.
  const std::string s =
      run_command("openssl s_client -connect 127.0.0.1:" + std::to_string(e.mllp) + " -CAfile " +
                  certs.server_cert() + " -verify_return_error </dev/null 2>&1");
  INFO(s);
  CHECK(s.find("Verify return code: 0 (ok)") != std::string::npos);
  CHECK(s.find("CN = 127.0.0.1") != std::string::npos);

  // And the links still answer after all that.
  TlsClient again(e.mllp, certs.server_cert());
  REQUIRE(again.handshake());
  CHECK(again.exchange(framed(oru("TLS1", din)), "\x1c\x0d").find("MSA|AA|TLS1") !=
        std::string::npos);
}

TEST_CASE(
    "with tokens the lab links take mutual TLS: a lab's certificate is served as that lab, and "
    "no certificate, another CA's, a station's or an unknown name is refused and on record",
    "[lab][tls][auth][mllp]") {
  TestCerts certs;
  REQUIRE(certs.ok());
  LinkEngine e;
  e.add_token("nbs-lab", "lab", "NBS-LAB");
  e.add_token("jem-lab", "lab", "JEM-LAB");
  e.add_token("jem-bench", "station", "JEM-BB");
  e.add_token("root", "admin", "");

  // Without a client CA a secured engine will not open a lab link.
  {
    TempDir d;
    Child unsecured(
        with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", d.path() + "/data", "--listen",
                    "127.0.0.1:" + std::to_string(free_port()), "--tokens", e.tokens_file, "--mllp",
                    "127.0.0.1:" + std::to_string(free_port()), "--mllp-lab", "NBS-LAB"},
                   kClock),
        {}, d.path() + "/serve.log");
    REQUIRE(unsecured.wait_for(30));
    CHECK(read_file(d.path() + "/serve.log").find("--lab-client-ca") != std::string::npos);
  }

  e.start({"--tokens", e.tokens_file, "--lab-tls-cert", certs.server_cert(), "--lab-tls-key",
           certs.server_key(), "--lab-client-ca", certs.ca()});
  const std::string din = "G123426200002";
  e.collect(din, e.token["root"]);
  auto send = [&](const std::pair<std::string, std::string>& client, const std::string& control) {
    TlsClient c(e.mllp, certs.server_cert(), client.first, client.second);
    return c.exchange(framed(oru(control, din)), "\x1c\x0d");
  };

  // Refused before any message is read: no answer at all.
  CHECK(send({"", ""}, "NOCERT").find("MSA") == std::string::npos);
  CHECK(send(certs.client("nbs-lab", "rogue-ca"), "ROGUE").find("MSA") == std::string::npos);
  CHECK(send(certs.client("jem-bench"), "STATION").find("MSA") == std::string::npos);
  CHECK(send(certs.client("nobody"), "NOBODY").find("MSA") == std::string::npos);
  // Another lab's certificate connects, but speaks for JEM-LAB only: AR.
  const std::string other = send(certs.client("jem-lab"), "OTHER");
  INFO(other);
  CHECK(other.find("MSA|AR|OTHER") != std::string::npos);
  CHECK(other.find("JEM-LAB only") != std::string::npos);
  CHECK(e.tests_of(din, e.token["root"]) == 0);

  // The lab's own certificate: accepted, and the certificate's name is the actor.
  const std::string ack = send(certs.client("nbs-lab"), "OWN");
  INFO(ack);
  CHECK(ack.find("MSA|AA|OWN") != std::string::npos);
  CHECK(e.tests_of(din, e.token["root"]) == 1);
  const json audit = json::parse(run_command(std::string(HEMOLEDGER_BINARY) + " audit " + din +
                                             " --data-dir " + e.data() + " --json 2>/dev/null"),
                                 nullptr, false);
  REQUIRE(audit.is_object());
  bool found = false;
  for (const auto& row : audit["entries"]) {
    if (row["type"] == "TestResulted") {
      found = true;
      CHECK(row["actor"] == "nbs-lab");
    }
  }
  CHECK(found);

  // The ASTM link takes the same certificates: a lab's is answered, none is refused.
  {
    const auto [cert, key] = certs.client("nbs-lab");
    TlsClient a(e.astm, certs.server_cert(), cert, key);
    CHECK(a.exchange("\x05", "\x06") == "\x06");
  }
  {
    TlsClient a(e.astm, certs.server_cert());
    CHECK(a.exchange("\x05", "\x06").find('\x06') == std::string::npos);
  }

  // Every refused connection is logged with its reason and on record under z/.
  const std::string log = e.log();
  CHECK(log.find("mllp: connection from 127.0.0.1:") != std::string::npos);
  CHECK(log.find("TLS handshake failed") != std::string::npos);
  CHECK(log.find("(certificate jem-bench) refused") != std::string::npos);
  CHECK(log.find("(certificate nobody) refused") != std::string::npos);
  json r;
  REQUIRE(eventually([&] {
    r = e.refusals();
    return r.is_object() && r["refusals"].size() >= 5;
  }));
  INFO(r.dump(2));
  std::map<std::string, int> count;  // channel/who/code -> refusals
  for (const auto& x : r["refusals"]) {
    CHECK(x["method"] == "connect");
    CHECK(x["remote"].get<std::string>().rfind("127.0.0.1:", 0) == 0);
    CHECK(!x["reason"].get<std::string>().empty());
    ++count[x["channel"].get<std::string>() + "/" + x["who"].get<std::string>() + "/" +
            x["code"].get<std::string>()];
  }
  CHECK(count["mllp/anonymous/tls_handshake"] == 2);  // no certificate, and the rogue CA's
  CHECK(count["mllp/jem-bench/wrong_role"] == 1);
  CHECK(count["mllp/nobody/unknown_certificate"] == 1);
  CHECK(count["astm/anonymous/tls_handshake"] == 1);
  CHECK(r["refusals"].size() == 5);
}
