// The lab connectors at run time: `hemoledger serve --mllp --astm` on its
// embedded Kafka, fed by clients nobody here wrote where one exists
// (Debian's python3-hl7 `mllp_send`), by raw LIS1-A bytes over a socket, and
// over HTTP. Donations and components are created through POST /api/events;
// the lab's results then release or keep units out of stock.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "engine/kafka/kafka.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

// The engines here start at a fixed instant: the messages and events below are dated 2026-11-20
// to 23.
const TestClock kClock("2026-11-23T12:00:00Z");

const std::string kRed = "E0382V00", kPlasma = "E2555V00";

// The shipped lab mapping with the release policy switched on.
std::string write_mapping(const TempDir& dir, bool release) {
  json m = json::parse(read_file(default_reference_dir() + "/lab_mapping.json"));
  m["release_when_complete"] = release;
  const std::string path = dir.path() + "/lab_mapping.json";
  std::ofstream(path) << m.dump(2);
  return path;
}

struct LabServer {
  TempDir dir;
  int http = free_port(), mllp = free_port(), astm = free_port();
  std::unique_ptr<Child> serve;

  std::string mapping;

  explicit LabServer(bool release = true) : mapping(write_mapping(dir, release)) { start(); }

  // Stops the engine (SIGTERM) and starts it again on the same data.
  void restart() {
    serve->signal(SIGTERM);
    REQUIRE(serve->wait_for(30));
    start();
  }

  void start() {
    serve = std::make_unique<Child>(
        with_clock(
            std::vector<std::string>{HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data",
                                     "--listen", "127.0.0.1:" + std::to_string(http), "--mllp",
                                     "127.0.0.1:" + std::to_string(mllp), "--astm",
                                     "127.0.0.1:" + std::to_string(astm), "--lab-mapping", mapping},
            kClock),
        std::vector<std::string>{}, dir.path() + "/serve.log");
    if (!wait_for_api(http, 30))
      FAIL("the engine did not start: " + read_file(dir.path() + "/serve.log"));
  }

  json post(const std::string& path, const std::string& body, int* status,
            const char* type = "application/json") const {
    httplib::Client c("127.0.0.1", http);
    c.set_read_timeout(60);
    auto r = c.Post(path.c_str(), body, type);
    if (!r) return json();
    *status = r->status;
    return json::parse(r->body, nullptr, false);
  }

  // A donation at NBS-BB with a red cell and a plasma component, in quarantine.
  void collect(const std::string& din, const std::string& group) const {
    const std::vector<std::string> events = {
        R"({"type":"DonationCollected","at":"2026-11-22T06:00:00Z","facility":"NBS-BB","din":")" +
            din + R"(","donor":"DNR-)" + din.substr(7) + R"(","abo_rh":")" + group + R"("})",
        R"({"type":"ComponentProduced","at":"2026-11-22T07:00:00Z","facility":"NBS-BB","din":")" +
            din + R"(","product":")" + kRed + R"(","volume_ml":280})",
        R"({"type":"ComponentProduced","at":"2026-11-22T07:00:00Z","facility":"NBS-BB","din":")" +
            din + R"(","product":")" + kPlasma + R"("})",
    };
    for (const auto& e : events) {
      int status = 0;
      post("/api/events", e, &status);
      REQUIRE(status == 200);
    }
  }

  std::string unit_status(const std::string& din, const std::string& product) const {
    auto u = get_json(http, "/api/units/" + din + "/" + product);
    return u ? (*u)["unit"]["status"].get<std::string>() : "";
  }
  std::int64_t available() const {
    auto s = get_json(http, "/api/stock?facility=NBS-BB&status=available");
    return s ? (*s)["total"].get<std::int64_t>() : -1;
  }
  std::size_t history(const std::string& din) const {
    auto u = get_json(http, "/api/units/" + din);
    return u ? (*u)["history"].size() : 0;
  }
};

// One ORU^R01 for `din` as a blood bank LIS sends it; `obx` are the OBX lines.
std::string oru(const std::string& control, const std::string& din,
                const std::vector<std::string>& obx) {
  std::string m = "MSH|^~\\&|BBLIS|NBSLAB|HEMOLEDGER|NBS-BB|20261122101500+0200||ORU^R01^ORU_R01|" +
                  control + "|P|2.5.1|||AL|NE\n";
  m += "PID|1||DNR-77^^^NBS-BB^DN\n";
  m += "OBR|1|ORD-" + control + "|" + din + "^NBSLAB|BBPANEL^Donation typing and screening^L|||" +
       "20261122083000+0200\n";
  int n = 0;
  for (const auto& o : obx) m += "OBX|" + std::to_string(++n) + "|CWE|" + o + "\n";
  return m;
}

std::vector<std::string> screens(const std::string& group, const std::string& hiv,
                                 const std::string& status = "F") {
  auto line = [&](const std::string& code, const std::string& value) {
    return code + "||" + value + "||||||" + status + "|||20261122094500+0200||||ARCHITECT-02";
  };
  return {line("882-1^ABO and Rh group panel^LN", group), line("5196-1^HBsAg^LN", "NEG"),
          line("16128-1^HCV Ab^LN", "Non-reactive"), line("56888-1^HIV 1+2 Ag+Ab^LN", hiv),
          line("SYPH^Syphilis antibody^99NBS", "NEG")};
}

struct Ack {
  std::string code, control, text;
};

// Runs Debian's mllp_send on a file of messages and returns the ACKs it
// printed, in order.
std::vector<Ack> mllp_send(const std::string& dir, int port, const std::string& messages) {
  const std::string file = dir + "/batch.hl7", out = dir + "/acks.txt";
  std::ofstream(file) << messages;
  std::remove(out.c_str());
  Child send({"/usr/bin/mllp_send", "--loose", "--file", file, "--port", std::to_string(port),
              "127.0.0.1"},
             {}, out);
  const int st = send.wait();
  REQUIRE((WIFEXITED(st) && WEXITSTATUS(st) == 0));
  const std::string printed = read_file(out);
  // Shown with the next assertion, so that a failure says what came back.
  UNSCOPED_INFO("mllp_send printed: " << printed);
  std::vector<Ack> acks;
  static const std::regex msa(R"(MSA\|([A-Z]{2})\|([^|\r]*)\|?([^\r]*))");
  for (auto it = std::sregex_iterator(printed.begin(), printed.end(), msa);
       it != std::sregex_iterator(); ++it) {
    acks.push_back({(*it)[1], (*it)[2], (*it)[3]});
  }
  return acks;
}

std::vector<Ack> mllp_send(const LabServer& engine, const std::string& messages) {
  return mllp_send(engine.dir.path(), engine.mllp, messages);
}

std::vector<std::string> codes(const std::vector<Ack>& acks) {
  std::vector<std::string> c;
  for (const auto& a : acks) c.push_back(a.code);
  return c;
}

// A TCP connection to the ASTM port that speaks LIS1-A by hand.
class Analyzer {
 public:
  explicit Analyzer(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Analyzer() { close(fd_); }
  bool connected() const { return connected_; }
  // Sends bytes and returns the one-byte answer (0 when none within 5 s).
  char send(const std::string& bytes) {
    ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return 0;
    char c = 0;
    return recv(fd_, &c, 1, 0) == 1 ? c : 0;
  }
  void send_only(const std::string& bytes) {
    ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// STX FN text CR ETX C1 C2 CR LF, the checksum computed here from LIS1-A's
// definition (sum of FN through ETX modulo 256, two uppercase hex digits).
std::string frame(int fn, const std::string& record, bool corrupt = false) {
  std::string body = std::to_string(fn % 8) + record + "\r" + "\x03";
  unsigned sum = 0;
  for (unsigned char c : body) sum += c;
  char hex[3];
  std::snprintf(hex, sizeof hex, "%02X", (sum + (corrupt ? 1 : 0)) % 256);
  return "\x02" + body + hex + "\r\n";
}

const std::vector<std::string> kTyping = {
    "H|\\^&|||IH-500^BIO-RAD^4.2|||||||P|LIS2-A2|20261122094500",
    "P|1||DNR-90",
    "O|1|G123426100020||^^^ABO\\^^^Rh|R||||||||||||||||||||F",
    "R|1|^^^ABO|A|||||F||tech1||20261122094000|IH500-01",
    "R|2|^^^Rh|POS|||||F||tech1||20261122094000|IH500-01",
    "L|1|N",
};

std::string fhir_screens(const std::string& din, const std::string& prefix) {
  json bundle = {{"resourceType", "Bundle"}, {"type", "collection"}, {"entry", json::array()}};
  const std::vector<std::pair<std::string, std::string>> tests = {
      {"5196-1", "Negative"}, {"16128-1", "Non-reactive"}, {"56888-1", "NR"}};
  int n = 0;
  for (const auto& [code, value] : tests) {
    bundle["entry"].push_back(
        {{"resource",
          {{"resourceType", "Observation"},
           {"id", prefix + std::to_string(++n)},
           {"status", "final"},
           {"code", {{"coding", json::array({{{"system", "http://loinc.org"}, {"code", code}}})}}},
           {"specimen", {{"identifier", {{"value", din}}}}},
           {"effectiveDateTime", "2026-11-22T09:50:00+02:00"},
           {"valueString", value}}}});
  }
  bundle["entry"].push_back(
      {{"resource",
        {{"resourceType", "Observation"},
         {"id", prefix + "syph"},
         {"status", "final"},
         {"code",
          {{"coding", json::array({{{"system", "urn:hemoledger:nbs-lab"}, {"code", "SYPH"}}})}}},
         {"specimen", {{"identifier", {{"value", din}}}}},
         {"effectiveDateTime", "2026-11-22T09:50:00+02:00"},
         {"valueString", "NEG"}}}});
  return bundle.dump();
}

}  // namespace

TEST_CASE(
    "lab results sent with mllp_send release clean units, keep a reactive donation out of "
    "stock and are acknowledged truthfully",
    "[engine][lab][mllp]") {
  LabServer engine;
  const std::string clean = "G123426100001", reactive = "G123426100002", unknown = "G123426100009";
  engine.collect(clean, "O+");
  engine.collect(reactive, "A+");
  REQUIRE(engine.available() == 0);
  // The lab's HIV kits: each HIV result recorded uses one test of the lot.
  int received = 0;
  engine.post(
      "/api/events",
      R"({"type":"ReagentReceived","at":"2026-11-20T06:00:00Z","facility":"NBS-LAB",)"
      R"("reagent":"hiv-elisa","lot":"HIV-A1","quantity":50,"expires_at":"2027-06-01T00:00:00Z"})",
      &received);
  REQUIRE(received == 200);
  auto hiv_kits = [&] {
    auto r = get_json(engine.http, "/api/reagents?facility=NBS-LAB&reagent=hiv-elisa");
    if (!r || (*r)["governorates"].empty()) return std::int64_t{-1};
    return (*r)["governorates"][0]["facilities"][0]["reagents"][0]["on_hand"].get<std::int64_t>();
  };
  REQUIRE(hiv_kits() == 50);

  std::vector<std::string> tpha = screens("O POS", "NR");
  tpha[4] = "TPHA^Syphilis TPHA^99NBS||NEG||||||F|||20261122094500+0200";
  const std::string batch =
      oru("LAB1001", clean, screens("O POS", "NR")) + "\n" +
      oru("LAB1002", reactive, screens("A POS", "Reactive")) + "\n" + oru("LAB1003", clean, tpha) +
      "\n" + oru("LAB1004", "G12341765432171", screens("O POS", "NR")) + "\n" +  // check flag wrong
      oru("LAB1005", unknown, screens("B POS", "NR")) + "\n";                    // never collected

  const auto acks = mllp_send(engine, batch);
  REQUIRE(acks.size() == 5);
  CHECK(codes(acks) == std::vector<std::string>{"AA", "AA", "AE", "AE", "AE"});
  CHECK(acks[0].control == "LAB1001");
  CHECK(acks[0].text.find("5 events recorded, 2 units released") != std::string::npos);
  CHECK(acks[2].text.find("TPHA") != std::string::npos);
  CHECK(acks[3].text.find("G12341765432171") != std::string::npos);
  CHECK(acks[4].text.find("unknown_donation") != std::string::npos);

  // The clean donation's units are available, the reactive one's are not.
  CHECK(engine.unit_status(clean, kRed) == "available");
  CHECK(engine.unit_status(clean, kPlasma) == "available");
  CHECK(engine.unit_status(reactive, kRed) != "available");
  CHECK(engine.available() == 2);
  auto r = get_json(engine.http, "/api/units/" + reactive);
  REQUIRE(r);
  CHECK((*r)["tests"]["hiv"]["status"] == "initially_reactive");  // its repeats decide
  CHECK((*r)["screen_positive"] == false);
  const std::size_t history = engine.history(clean);
  CHECK(hiv_kits() == 48);  // two HIV results recorded; the refused messages used none

  SECTION("the same batch sent again applies nothing twice and is acknowledged the same way") {
    const auto again = mllp_send(engine, batch);
    REQUIRE(again.size() == 5);
    CHECK(codes(again) == codes(acks));
    CHECK(again[0].text == acks[0].text);  // the stored answer
    CHECK(engine.available() == 2);
    CHECK(engine.history(clean) == history);
    CHECK(hiv_kits() == 48);  // no kit used twice
  }
  SECTION("a corrected HIV result is kept beside the final one and takes the units out of stock") {
    // Same MSH-10, only OBX 4 changed, with result status C.
    std::vector<std::string> obx = screens("O POS", "Reactive");
    obx[3].replace(obx[3].find("||||||F|||"), 10, "||||||C|||");
    const auto corrected = mllp_send(engine, oru("LAB1001", clean, obx));
    REQUIRE(corrected.size() == 1);
    CHECK(corrected[0].code == "AA");
    CHECK(engine.unit_status(clean, kRed) != "available");
    CHECK(engine.available() == 0);
    auto d = get_json(engine.http, "/api/units/" + clean);
    REQUIRE(d);
    CHECK((*d)["tests"]["hiv"]["status"] == "initially_reactive");
    CHECK((*d)["tests"]["hiv"]["results"].size() == 2);
    CHECK(hiv_kits() == 47);  // the repeat test used one more kit; the unchanged results none
  }
}

TEST_CASE(
    "after a restart the lab gateway and POST /api/events still report the engine's own "
    "verdict",
    "[engine][lab][mllp]") {
  LabServer engine;
  const std::string din = "G123426100013";
  engine.collect(din, "AB+");
  REQUIRE(mllp_send(engine, oru("LAB4001", din, screens("AB POS", "NR")))[0].code == "AA");
  engine.restart();
  // Journal positions now differ from Kafka offsets (a new embedded cluster):
  // a rejected event must not be read as an older applied one.
  const auto acks = mllp_send(engine, oru("LAB4002", "G123426100014", screens("O POS", "NR")));
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].code == "AE");
  CHECK(acks[0].text.find("unknown_donation") != std::string::npos);
  int status = 0;
  json r = engine.post(
      "/api/events",
      R"({"type":"UnitIssued","at":"2026-11-23T06:00:00Z","facility":"NBS-BB","din":")" + din +
          R"(","product":"E9999V00"})",
      &status);
  CHECK(status == 422);
  CHECK(r["outcome"] == "rejected");
  // The retransmission of the accepted message is still answered from the store.
  const auto again = mllp_send(engine, oru("LAB4001", din, screens("AB POS", "NR")));
  REQUIRE(again.size() == 1);
  CHECK(again[0].code == "AA");
  CHECK(engine.unit_status(din, kRed) == "available");
}

TEST_CASE("without the release policy lab results are recorded and the units stay in quarantine",
          "[engine][lab][mllp]") {
  LabServer engine(false);
  const std::string din = "G123426100011";
  engine.collect(din, "O-");
  const auto acks = mllp_send(engine, oru("LAB2001", din, screens("O NEG", "NR")));
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].code == "AA");
  CHECK(engine.unit_status(din, kRed) == "quarantined");
  auto d = get_json(engine.http, "/api/units/" + din);
  REQUIRE(d);
  CHECK((*d)["abo_rh"] == "O-");
  CHECK((*d)["release_waits_for"].is_null());
}

TEST_CASE("garbage and an oversized frame on the MLLP port are refused and the listener goes on",
          "[engine][lab][mllp]") {
  LabServer engine;
  {
    Analyzer raw(engine.mllp);  // any TCP client will do
    REQUIRE(raw.connected());
    raw.send_only("\x0bhello, not HL7\x1c\x0d");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  {
    Analyzer big(engine.mllp);
    REQUIRE(big.connected());
    big.send_only("\x0b" + std::string(2 << 20, 'A') + "\x1c\x0d");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const std::string din = "G123426100012";
  engine.collect(din, "B+");
  const auto acks = mllp_send(engine, oru("LAB3001", din, screens("B POS", "NR")));
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].code == "AA");
  CHECK(engine.unit_status(din, kRed) == "available");
  CHECK(engine.serve->running());
}

TEST_CASE(
    "an analyzer's LIS1-A transfer over TCP is acknowledged frame by frame and types the "
    "donation, and FHIR screens then release it",
    "[engine][lab][astm][fhir]") {
  LabServer engine;
  const std::string din = "G123426100020";
  engine.collect(din, "A+");
  {
    Analyzer a(engine.astm);
    REQUIRE(a.connected());
    CHECK(a.send("\x05") == '\x06');                      // ENQ -> ACK
    CHECK(a.send(frame(1, kTyping[0], true)) == '\x15');  // bad checksum -> NAK
    int fn = 1;
    for (const auto& rec : kTyping) CHECK(a.send(frame(fn++, rec)) == '\x06');
    CHECK(a.send(frame(3, "R|9|^^^ABO|B")) == '\x15');  // wrong frame number -> NAK
    a.send_only("\x04");                                // EOT: the message is complete
    REQUIRE(eventually([&] {
      auto d = get_json(engine.http, "/api/units/" + din);
      return d && (*d)["abo_rh"] == "A+" && (*d)["release_waits_for"].is_string() &&
             (*d)["release_waits_for"].get<std::string>().find("ABO") == std::string::npos;
    }));
  }
  CHECK(engine.unit_status(din, kRed) == "quarantined");  // screens still missing

  int status = 0;
  json oo = engine.post("/api/fhir/Bundle", fhir_screens(din, "obs-20-"), &status,
                        "application/fhir+json");
  CHECK(status == 200);
  CHECK(oo["resourceType"] == "OperationOutcome");
  CHECK(oo["issue"][0]["severity"] == "information");
  CHECK(engine.unit_status(din, kRed) == "available");

  auto bdp = get_json(engine.http, "/api/fhir/BiologicallyDerivedProduct/" + din + "/" + kRed);
  REQUIRE(bdp);
  CHECK((*bdp)["resourceType"] == "BiologicallyDerivedProduct");
  CHECK((*bdp)["productStatus"]["code"] == "available");
  CHECK((*bdp)["biologicalSourceEvent"]["value"] == din);
  int missing = 0;
  get_json(engine.http, "/api/fhir/BiologicallyDerivedProduct/" + din + "/E9999V00", &missing);
  CHECK(missing == 404);

  auto report = get_json(engine.http, "/api/fhir/InventoryReport?facility=NBS-BB");
  REQUIRE(report);
  CHECK((*report)["resourceType"] == "InventoryReport");
  std::int64_t available = 0;
  for (const auto& l : (*report)["inventoryListing"]) {
    for (const auto& item : l["item"]) available += item["quantity"]["value"].get<std::int64_t>();
  }
  CHECK(available == 2);

  SECTION(
      "an Observation for a donation never collected is answered 422 with the engine's reason") {
    json obs = json::parse(fhir_screens("G123426100029", "obs-29-"))["entry"][0]["resource"];
    json bad = engine.post("/api/fhir/Observation", obs.dump(), &status, "application/fhir+json");
    CHECK(status == 422);
    CHECK(bad["issue"][0]["severity"] == "error");
    CHECK(bad["issue"][0]["diagnostics"].get<std::string>().find("unknown_donation") !=
          std::string::npos);
  }
}

TEST_CASE(
    "ASTM records posted over HTTP answer per result, and a repeat is answered the same "
    "without applying anything again",
    "[engine][lab][astm]") {
  LabServer engine;
  const std::string din = "G123426100020";
  engine.collect(din, "A+");
  std::string text;
  for (const auto& r : kTyping) text += r + "\r\n";
  int status = 0;
  json first = engine.post("/api/lab/astm", text, &status, "text/plain");
  CHECK(status == 200);
  CHECK(first["outcome"] == "accepted");
  REQUIRE(first["results"].size() == 2);
  CHECK(first["results"][0]["status"] == "applied");
  CHECK(first["results"][0]["din"] == din);
  const std::size_t history = engine.history(din);

  json again = engine.post("/api/lab/astm", text, &status, "text/plain");
  CHECK(status == 200);
  CHECK(again == first);
  CHECK(engine.history(din) == history);

  std::string kell = text;
  kell.replace(kell.find("^^^Rh|POS"), 9, "^^^KELL|NEG");
  json bad = engine.post("/api/lab/astm", kell, &status, "text/plain");
  CHECK(status == 422);
  CHECK(bad["code"] == "unknown_test");
}

TEST_CASE(
    "in a scale-out group the lab link of one instance acknowledges a result only once the "
    "instance that serves the unit's partition recorded it",
    "[engine][lab][mllp][scale-out]") {
  TempDir dir;
  TestKafka k(3);
  const KafkaConfig& kafka = k.kafka;
  Producer* producer = k.producer.get();
  const std::string mapping = write_mapping(dir, true);
  const int http_a = free_port(), http_b = free_port(), mllp = free_port();
  auto serve = [&](const std::string& name, int http, bool lab) {
    std::vector<std::string> args{HEMOLEDGER_BINARY, "serve",
                                  "--brokers",       kafka.brokers,
                                  "--group",         "national",
                                  "--instance",      name,
                                  "--data-dir",      dir.path() + "/" + name,
                                  "--listen",        "127.0.0.1:" + std::to_string(http),
                                  "--lab-mapping",   mapping};
    if (lab) {
      args.push_back("--mllp");
      args.push_back("127.0.0.1:" + std::to_string(mllp));
    }
    auto c = std::make_unique<Child>(with_clock(args, kClock), std::vector<std::string>{},
                                     dir.path() + "/" + name + ".log");
    REQUIRE(wait_for_api(http, 30));
    return c;
  };
  auto a = serve("a", http_a, true);
  auto b = serve("b", http_b, false);
  auto serving = [](int port) {
    std::set<int> out;
    auto h = get_json(port, "/health");
    if (h && h->contains("scale_out") && (*h)["scale_out"]["restoring"].empty()) {
      for (const auto& p : (*h)["scale_out"]["serving"]) out.insert(p.get<int>());
    }
    return out;
  };
  std::set<int> on_b;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < end) {
    on_b = serving(http_b);
    if (on_b.size() + serving(http_a).size() == 6 && !on_b.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE_FALSE(on_b.empty());
  // A donation in a partition that b serves, not a (whose lab link we use).
  std::string din;
  for (int i = 100; din.empty() && i < 400; ++i) {
    if (on_b.count(partition_for_key(din_for(i), 6))) din = din_for(i);
  }
  REQUIRE_FALSE(din.empty());
  const std::vector<std::string> events = {
      R"({"id":"so-lab-1","type":"DonationCollected","at":"2026-11-22T06:00:00Z","facility":"NBS-BB","din":")" +
          din + R"(","donor":"DNR-)" + din.substr(7) + R"(","abo_rh":"O+"})",
      R"({"id":"so-lab-2","type":"ComponentProduced","at":"2026-11-22T07:00:00Z","facility":"NBS-BB","din":")" +
          din + R"(","product":")" + kRed + R"(","volume_ml":280})",
  };
  for (const auto& e : events) {
    auto d = producer->produce_sync("hemoledger.events", din, e, 10000);
    REQUIRE(d.ok());
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto u = get_json(http_b, "/api/units/" + din, &status);
    if (u && status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(status == 200);

  const auto acks = mllp_send(dir.path(), mllp, oru("LAB9001", din, screens("O POS", "NR")));
  INFO(read_file(dir.path() + "/a.log").substr(0, 4000));
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].code == "AA");
  auto unit = get_json(http_b, "/api/units/" + din + "/" + kRed);
  REQUIRE(unit);
  CHECK((*unit)["unit"]["status"] == "available");  // recorded by b, released by policy
}
