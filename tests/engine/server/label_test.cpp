// A unit's printed ISBT 128 label read back by an independent reader: the
// engine renders the label (GET /api/units/{din}/{product}/label and
// `hemoledger label --print`), Debian's rsvg-convert and pdftoppm rasterise
// it, and zbar's zbarimg reads its four Code 128 symbols. What zbar reads
// must be the unit's DIN (flags and check), group, product and expiry, and
// the project's own decoder must agree.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "connectors/isbt128.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

constexpr const char* kProduct = "E0382V00";

void require_tool(const char* path, const char* package) {
  if (!std::filesystem::exists(path)) {
    FAIL(path << " is missing: install Debian's " << package << " package (./run.sh test)");
  }
}

struct LabelEngine {
  TempDir dir;
  int port = free_port();
  std::unique_ptr<Child> serve;
  LabelEngine() {
    serve = std::make_unique<Child>(
        with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data", "--listen",
                    "127.0.0.1:" + std::to_string(port)}),
        std::vector<std::string>{}, dir.path() + "/serve.log");
    REQUIRE(wait_for_api(port, 30));
  }
  void post(const Event& e) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30);
    auto r = c.Post("/api/events", encode_json(e), "application/json");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
  }
  // A released red-cell unit of `group` at JEM-BB, collected two days ago.
  void released_unit(const std::string& din, AboRh group) {
    EventMaker m(din, test_clock().now() - 2 * kDay);
    Event c = m.make(EventType::donation_collected, "JEM-BB", din);
    c.donor = "D-" + din;
    c.abo_rh = group;
    post(c);
    post(m.make(EventType::component_produced, "JEM-BB", din, kProduct));
    auto result = [&](const char* test, std::string v) {
      Event t = m.make(EventType::test_resulted, "JEM-LAB", din);
      t.test = test;
      t.result = std::move(v);
      post(t);
    };
    result("abo_rh", std::string(to_string(group)));
    for (const char* s : {"hiv", "hbv", "hcv", "syphilis"}) result(s, "negative");
    post(m.make(EventType::unit_released, "JEM-BB", din, kProduct));
  }
  // GET path, which must answer 200 with `media_type`; the body.
  std::string get(const std::string& path, const std::string& media_type) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30);
    auto r = c.Get(path.c_str());
    REQUIRE(r);
    INFO(path << " -> " << r->status << " " << r->body.substr(0, 300));
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == media_type);
    return r->body;
  }
};

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// What zbarimg reads in a PNG: one line per Code 128 symbol.
std::multiset<std::string> zbar_read(const std::string& png) {
  const std::string out =
      run_command("/usr/bin/zbarimg --raw -q -Sdisable -Scode128.enable " + png + " 2>/dev/null");
  std::multiset<std::string> lines;
  std::istringstream s(out);
  for (std::string l; std::getline(s, l);) {
    if (!l.empty()) lines.insert(l);
  }
  return lines;
}

// The four symbols zbar read must say what the engine's record of the unit says.
void check_reads_back(const std::multiset<std::string>& read, const json& unit_record,
                      const std::string& din, bool check_flags) {
  INFO("zbar read: " << [&] {
    std::string all;
    for (const auto& l : read) all += l + " | ";
    return all;
  }());
  REQUIRE(read.size() == 4);
  isbt128::Scan all;
  for (const auto& data : read) {
    auto s = isbt128::decode(data);
    INFO(data);
    REQUIRE(s);
    if (s->din) {
      all.din = s->din;
      all.din_flags = s->din_flags;
      all.din_check_ok = s->din_check_ok;
    }
    if (s->abo_rh) all.abo_rh = s->abo_rh;
    if (s->product) all.product = s->product;
    if (s->expires_at) all.expires_at = s->expires_at;
  }
  CHECK(all.din == din);
  CHECK(all.din_flags == (check_flags ? std::to_string(60 + isbt128::din_check_value(din)) : "00"));
  CHECK(all.din_check_ok == check_flags);
  REQUIRE(all.abo_rh);
  CHECK(to_string(*all.abo_rh) == unit_record["abo_rh"].get<std::string>());
  CHECK(all.product == kProduct);
  const TimeMs expires = *parse_rfc3339(unit_record["unit"]["expires_at"].get<std::string>());
  REQUIRE(all.expires_at);
  CHECK(*all.expires_at == expires / kMinute * kMinute);
}

}  // namespace

TEST_CASE("a printed label is read back by zbar to the unit's DIN, group, product and expiry",
          "[labels][zbar]") {
  require_tool("/usr/bin/zbarimg", "zbar-tools");
  require_tool("/usr/bin/rsvg-convert", "librsvg2-bin");
  require_tool("/usr/bin/pdftoppm", "poppler-utils");
  LabelEngine engine;
  const std::string din = din_for(420001), negative_din = din_for(420002);
  engine.released_unit(din, AboRh::a_pos);
  engine.released_unit(negative_din, AboRh::o_neg);
  const std::string work = engine.dir.path();

  SECTION("the API's SVG, rasterised by rsvg-convert") {
    for (const auto& [d, flags] :
         {std::pair{din, std::string("")}, std::pair{negative_din, std::string("&flags=check")}}) {
      const json record = *get_json(engine.port, "/api/units/" + d + "/" + kProduct);
      const std::string svg = engine.get(
          "/api/units/" + d + "/" + kProduct + "/label?format=svg" + flags, "image/svg+xml");
      write_file(work + "/" + d + ".svg", svg);
      const std::string png = work + "/" + d + ".png";
      REQUIRE(std::system(("/usr/bin/rsvg-convert --dpi-x 300 --dpi-y 300 --background-color "
                           "white -o " +
                           png + " " + work + "/" + d + ".svg")
                              .c_str()) == 0);
      check_reads_back(zbar_read(png), record, d, !flags.empty());
    }
  }

  SECTION("the command's PDF, rasterised by pdftoppm") {
    const std::string pdf = work + "/label.pdf";
    const std::string cmd = std::string(HEMOLEDGER_BINARY) + " label --print " + din + " " +
                            kProduct + " --format pdf --output " + pdf + " --data-dir " + work +
                            "/data 2>&1";
    INFO(run_command(cmd));
    const std::string bytes = read_file(pdf);
    REQUIRE(bytes.rfind("%PDF-", 0) == 0);
    REQUIRE(
        std::system(("/usr/bin/pdftoppm -r 300 -png -singlefile " + pdf + " " + work + "/label-pdf")
                        .c_str()) == 0);
    const json record = *get_json(engine.port, "/api/units/" + din + "/" + kProduct);
    check_reads_back(zbar_read(work + "/label-pdf.png"), record, din, false);
    const std::string api_pdf =
        engine.get("/api/units/" + din + "/" + kProduct + "/label?format=pdf", "application/pdf");
    CHECK(api_pdf.rfind("%PDF-", 0) == 0);
  }

  SECTION("an unknown unit or format is refused with its reason") {
    int status = 0;
    auto j = get_json(engine.port, "/api/units/" + din + "/E0336V00/label", &status);
    CHECK(status == 404);
    REQUIRE(j);
    CHECK((*j)["error"] == "not_found");
    j = get_json(engine.port, "/api/units/" + din + "/" + kProduct + "/label?format=png", &status);
    CHECK(status == 400);
    REQUIRE(j);
    CHECK((*j)["error"] == "bad_format");
  }
}
