// Alerts end to end: `hemoledger serve` on its embedded Kafka raises supply,
// expiring-soon and lookback recall alerts from the events it applies, lists
// them at /api/alerts, sends them to the alerts topic (read here with kcat)
// and POSTs them to a webhook that fails at first and is retried. A lookback
// recalls the donor's earlier unit held in another governorate.
#include <catch2/catch.hpp>
#include <fstream>
#include <mutex>
#include <sstream>

#include "engine/io/clock.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// POSTs an event and returns the engine's outcome ("applied", "rejected", ...).
std::string post_event(int port, const Event& e) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30);
  auto r = c.Post("/api/events", encode_json(e), "application/json");
  if (!r) return "no answer";
  auto j = json::parse(r->body, nullptr, false);
  if (!j.is_object()) return "bad answer";
  if (j.value("outcome", "") != "applied") {
    return j.value("outcome", "?") + ": " + j.value("code", "") + ": " + j.value("message", "");
  }
  return "applied";
}

// A local receiver that answers 500 to the first `failures` POSTs.
struct WebhookReceiver {
  explicit WebhookReceiver(int failures) : fail_left(failures) {
    server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      ++attempts;
      if (fail_left > 0) {
        --fail_left;
        res.status = 500;
        return;
      }
      bodies.push_back(json::parse(req.body, nullptr, false));
      res.status = 204;
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
  }
  ~WebhookReceiver() {
    server.stop();
    thread.join();
  }
  std::vector<json> received() {
    std::lock_guard lock(mu);
    return bodies;
  }
  httplib::Server server;
  std::thread thread;
  std::mutex mu;
  int port = 0, attempts = 0, fail_left = 0;
  std::vector<json> bodies;
};

std::optional<json> find_alert(const json& list, const std::string& kind,
                               const std::string& facility_or_gov) {
  for (const auto& a : list["alerts"]) {
    if (a["kind"] == kind && (a["governorate"] == facility_or_gov ||
                              (a["facility"].is_string() && a["facility"] == facility_or_gov))) {
      return a;
    }
  }
  return std::nullopt;
}

struct Serve {
  Serve(const TempDir& dir, int port, const std::string& webhook)
      : child(with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data",
                          "--listen", "127.0.0.1:" + std::to_string(port), "--bootstrap-file",
                          dir.path() + "/boot", "--webhook", webhook}),
              {}, dir.path() + "/serve.log") {}
  Child child;
};

}  // namespace

TEST_CASE(
    "alerts reach the API, the alerts topic and a retried webhook, and a lookback recalls "
    "across governorates",
    "[engine][alerts][kcat]") {
  TempDir dir;
  WebhookReceiver hook(2);
  const int port = free_port();
  const std::string webhook = "http://127.0.0.1:" + std::to_string(hook.port) + "/hook";
  auto serve = std::make_unique<Serve>(dir, port, webhook);
  REQUIRE(wait_for_api(port, 30));

  const TimeMs now = test_clock().now();
  EventMaker ev("al", now - 10 * kDay);
  auto life = [&](const std::string& din, const std::string& bank, const std::string& lab,
                  const std::string& donor, AboRh group, const std::vector<std::string>& products,
                  TimeMs collected) {
    std::vector<Event> out;
    Event d = ev.make(EventType::donation_collected, bank, din);
    d.at = collected;
    d.donor = donor;
    d.abo_rh = group;
    out.push_back(d);
    for (const auto& p : products) {
      Event c = ev.make(EventType::component_produced, bank, din, p);
      c.at = collected + kHour;
      out.push_back(c);
    }
    for (const auto& [test, result] :
         std::vector<std::pair<std::string, std::string>>{{"abo_rh", std::string(to_string(group))},
                                                          {"hiv", "negative"},
                                                          {"hbv", "negative"},
                                                          {"hcv", "negative"},
                                                          {"syphilis", "negative"}}) {
      Event t = ev.make(EventType::test_resulted, lab, din);
      t.at = collected + 2 * kHour;
      t.test = test;
      t.result = result;
      out.push_back(t);
    }
    for (const auto& p : products) {
      Event r = ev.make(EventType::unit_released, bank, din, p);
      r.at = collected + 3 * kHour;
      out.push_back(r);
    }
    return out;
  };
  std::vector<Event> events;
  auto add = [&](std::vector<Event> es) { events.insert(events.end(), es.begin(), es.end()); };

  // Nablus's only O- red cell unit was issued two days ago: Red.
  add(life("G123426100001", "NBS-BB", "NBS-LAB", "DNR-1001", AboRh::o_neg, {"E0336V00"},
           now - 5 * kDay));
  Event issue = ev.make(EventType::unit_issued, "NBS-BB", "G123426100001", "E0336V00");
  issue.at = now - 2 * kDay;
  issue.patient_abo_rh = AboRh::o_neg;
  issue.patient = "PAT-1001";
  issue.to = "NBS-HOS";
  events.push_back(issue);
  Event transfused = ev.make(EventType::unit_transfused, "NBS-HOS", "G123426100001", "E0336V00");
  transfused.at = now - 2 * kDay + kHour;
  events.push_back(transfused);
  // Platelets at Nablus that expire in ten hours.
  add(life("G123426100002", "NBS-BB", "NBS-LAB", "DNR-1002", AboRh::a_pos, {"E3045V00"},
           now - 4 * kDay - 14 * kHour));
  for (auto& e : events) {
    if (e.type == EventType::component_produced && e.din == "G123426100002") {
      e.expires_at = now + 10 * kHour;
    }
  }
  // Donor DNR-L gave at Jenin eight days ago; that red cell unit was sent to Gaza.
  add(life("G123426100003", "JEN-BB", "JEN-LAB", "DNR-9001", AboRh::b_pos, {"E0336V00"},
           now - 8 * kDay));
  Event out = ev.make(EventType::transfer_dispatched, "JEN-BB", "G123426100003", "E0336V00");
  out.at = now - 7 * kDay;
  out.to = "GZA-BB";
  events.push_back(out);
  Event in = ev.make(EventType::transfer_received, "GZA-BB", "G123426100003", "E0336V00");
  in.at = now - 6 * kDay;
  events.push_back(in);
  for (const auto& e : events) REQUIRE(post_event(port, e) == "applied");

  // Today the same donor's donation at Hebron screens HIV positive.
  Event d2 = ev.make(EventType::donation_collected, "HBN-BB", "G123426100004");
  d2.at = now - kDay;
  d2.donor = "DNR-9001";
  d2.abo_rh = AboRh::b_pos;
  REQUIRE(post_event(port, d2) == "applied");
  Event positive = ev.make(EventType::test_resulted, "HBN-LAB", "G123426100004");
  positive.at = now - kHour;
  positive.test = "hiv";
  positive.result = "positive";
  REQUIRE(post_event(port, positive) == "applied");
  Event repeat = ev.make(EventType::test_resulted, "HBN-LAB", "G123426100004");
  repeat.at = now - kHour + kMinute;
  repeat.test = "hiv";
  repeat.result = "positive";  // the repeat in duplicate: repeatedly reactive
  REQUIRE(post_event(port, repeat) == "applied");

  // The engine recalls the Jenin unit where it is now, in Gaza, through Kafka.
  std::optional<json> unit;
  REQUIRE(eventually(
      [&] {
        unit = get_json(port, "/api/units/G123426100003/E0336V00");
        return unit && (*unit)["unit"]["status"] == "quarantined";
      },
      30));
  CHECK((*unit)["unit"]["holder"] == "GZA-BB");

  std::optional<json> alerts;
  const bool all_three = eventually(
      [&] {
        alerts = get_json(port, "/api/alerts");
        return alerts && find_alert(*alerts, "recall", "GZA-BB") &&
               find_alert(*alerts, "supply_phase", "NBS") &&
               find_alert(*alerts, "expiring_soon", "NBS-BB");
      },
      30);
  if (!all_three) FAIL("open alerts: " << (alerts ? alerts->dump(1) : std::string("none")));
  const json supply = *find_alert(*alerts, "supply_phase", "NBS");
  CHECK(supply["severity"] == "red");
  CHECK(supply["abo_rh"] == "O-");
  CHECK(supply["category"] == "red_cells");
  CHECK(supply["figures"]["available"] == 0);
  CHECK(supply["governorate_name_ar"] == "نابلس");
  CHECK(supply["status"] == "open");
  const json recall = *find_alert(*alerts, "recall", "GZA-BB");
  CHECK(recall["din"] == "G123426100003");
  CHECK(recall["governorate"] == "GZA");
  CHECK(recall["severity"] == "amber");
  CHECK(recall["figures"]["test"] == "hiv");
  const json expiring = *find_alert(*alerts, "expiring_soon", "NBS-BB");
  CHECK(expiring["category"] == "platelets");
  CHECK(expiring["figures"]["units"] == 1);
  const std::uint64_t last_seq = (*alerts)["last_seq"].get<std::uint64_t>();
  CHECK(last_seq >= 3);

  // Filters.
  auto reds = get_json(port, "/api/alerts?severity=red");
  REQUIRE(reds);
  for (const auto& a : (*reds)["alerts"]) CHECK(a["severity"] == "red");
  CHECK_FALSE((*reds)["alerts"].empty());
  int status = 0;
  get_json(port, "/api/alerts?severity=purple", &status);
  CHECK(status == 400);
  auto since = get_json(port, "/api/alerts?since=0");
  REQUIRE(since);
  CHECK((*since)["changes"].size() == last_seq);

  // The webhook failed twice, then received every change, in order, once.
  REQUIRE(eventually([&] { return hook.received().size() >= last_seq; }, 30));
  const auto bodies = hook.received();
  for (std::size_t i = 0; i < bodies.size(); ++i) CHECK(bodies[i]["seq"] == i + 1);
  CHECK(hook.attempts >= static_cast<int>(last_seq) + 2);
  auto health = get_json(port, "/health", &status);
  REQUIRE(health);
  CHECK((*health)["alerts"]["webhooks"][0]["problem"].is_null());
  CHECK((*health)["alerts"]["webhooks"][0]["failures"].get<int>() >= 1);

  // Any Kafka client reads the same changes on the alerts topic.
  const std::string bootstrap = first_line(dir.path() + "/boot");
  std::vector<json> topic;
  REQUIRE(eventually(
      [&] {
        const std::string out_file = dir.path() + "/alerts.txt";
        Child kcat({"/usr/bin/kcat", "-b", bootstrap, "-C", "-t", "hemoledger.alerts", "-e", "-q",
                    "-o", "beginning"},
                   {}, out_file);
        kcat.wait();
        std::ifstream in(out_file);
        std::string line;
        topic.clear();
        while (std::getline(in, line)) {
          auto j = json::parse(line, nullptr, false);
          if (j.is_object() && j.contains("seq")) topic.push_back(j);
        }
        std::filesystem::remove(out_file);
        return topic.size() >= last_seq;
      },
      30));
  std::set<std::uint64_t> seqs;
  for (const auto& j : topic) seqs.insert(j["seq"].get<std::uint64_t>());
  CHECK(seqs.size() == last_seq);
  CHECK(*seqs.rbegin() == last_seq);

  // After a restart the open alerts are the same and nothing is raised again.
  serve->child.signal(SIGTERM);
  REQUIRE(serve->child.wait_for(30));
  serve = std::make_unique<Serve>(dir, port, webhook);
  REQUIRE(wait_for_api(port, 30));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto again = get_json(port, "/api/alerts");
  REQUIRE(again);
  CHECK((*again)["last_seq"] == last_seq);
  CHECK((*again)["alerts"].size() == (*alerts)["alerts"].size());
  serve->child.signal(SIGTERM);
  REQUIRE(serve->child.wait_for(30));

  // A rebuild from the journal reproduces the same alerts.
  Child check({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", dir.path() + "/data"}, {},
              dir.path() + "/rebuild.log");
  const int rs = check.wait();
  std::ifstream rl(dir.path() + "/rebuild.log");
  std::stringstream rebuild_log;
  rebuild_log << rl.rdbuf();
  INFO(rebuild_log.str());
  CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
}
