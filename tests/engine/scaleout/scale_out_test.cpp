// Scale-out (docs/scale-out.md) with real parts: a three-broker mock cluster
// hosted by this test, and several `hemoledger serve --instance` processes in
// one consumer group, each with its own RocksDB.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/kafka/kafka.h"
#include "engine/scaleout/partials.h"
#include "events/binary_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

constexpr int kPartitions = 6;

struct Instance {
  std::string name, data, log;
  int port = free_port();
  std::unique_ptr<Child> process;
};

struct Group : TestKafka {
  Group() : TestKafka(3, kPartitions) {}
  TempDir dir;
  std::map<std::string, Instance> instances;

  // `instance` empty: a single instance of its own group (the reference).
  // `extra`: more arguments for serve.
  Instance& start(const std::string& name, const std::string& group, bool scale_out = true,
                  const std::vector<std::string>& extra = {}) {
    Instance& i = instances[name];
    i.name = name;
    i.data = dir.path() + "/" + name;
    i.log = dir.path() + "/" + name + ".log";
    std::vector<std::string> args{
        HEMOLEDGER_BINARY, "serve", "--brokers",   kafka.brokers,
        "--data-dir",      i.data,  "--listen",    "127.0.0.1:" + std::to_string(i.port),
        "--group",         group,   "--max-batch", "50"};
    if (scale_out) {
      args.push_back("--instance");
      args.push_back(name);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    i.process = std::make_unique<Child>(with_clock(args), std::vector<std::string>{}, i.log);
    REQUIRE(wait_for_api(i.port, 30));
    return i;
  }
};

// Partitions an instance serves now, from /health.
std::set<int> serving(int port) {
  std::set<int> out;
  auto h = get_json(port, "/health");
  if (!h || !h->contains("scale_out")) return out;
  if (!(*h)["scale_out"]["restoring"].empty()) return out;
  for (const auto& p : (*h)["scale_out"]["serving"]) out.insert(p.get<int>());
  return out;
}

// A partition's committed next offset in a /health answer (0 if none yet).
std::int64_t next_offset_of(const json& health, int partition) {
  const auto& parts = health["partitions"];
  const std::string p = std::to_string(partition);
  if (!parts.is_object() || !parts.contains(p)) return 0;
  return parts[p].value("next_offset", std::int64_t{0});
}

// GET, following a redirect to the owning instance.
std::optional<json> get_following(int port, const std::string& path, int* status) {
  httplib::Client c("127.0.0.1", port);
  c.set_follow_location(true);
  c.set_read_timeout(10);
  auto r = c.Get(path.c_str());
  if (!r) return std::nullopt;
  *status = r->status;
  auto j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// Waits until every partition is served by exactly one of `names` and their
// committed offsets add up to `total` messages.
bool wait_settled(Group& g, const std::vector<std::string>& names, std::int64_t total,
                  int seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    std::multiset<int> all;
    std::int64_t committed = 0;
    for (const auto& n : names) {
      auto parts = serving(g.instances[n].port);
      all.insert(parts.begin(), parts.end());
      auto h = get_json(g.instances[n].port, "/health");
      if (h) {
        for (int p : parts) committed += next_offset_of(*h, p);
      }
    }
    if (all.size() == kPartitions && std::set<int>(all.begin(), all.end()).size() == kPartitions &&
        committed >= total) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return false;
}

// The instance of `names` that leads the alerts: the one serving the
// partition of the follow-up events' key.
std::string alert_leader(Group& g, const std::vector<std::string>& names) {
  const int leader_partition = partition_for_key("alerts", kPartitions);
  for (const auto& n : names) {
    if (serving(g.instances[n].port).count(leader_partition)) return n;
  }
  return "";
}

// The alert with `id` in a GET /api/alerts answer (null if absent).
json alert_with_id(const json& body, const std::string& id) {
  for (const auto& a : body["alerts"]) {
    if (a.value("id", "") == id) return a;
  }
  return nullptr;
}

// A report as two instances give it, once the answers stand still: asked of
// `first`, of `second`, and of `first` again until the two answers of
// `first` are equal (events such as clock ticks may still arrive). The
// status of the last answers in `statuses`.
std::pair<json, json> stable_reports(int first, int second, const std::string& path,
                                     std::pair<int, int>& statuses) {
  std::pair<json, json> out;
  for (int attempt = 0; attempt < 50; ++attempt) {
    int s1 = 0, s2 = 0, s3 = 0;
    auto a = get_json(first, path, &s1);
    auto b = get_json(second, path, &s2);
    auto again = get_json(first, path, &s3);
    statuses = {s1, s2};
    if (a && b && again && s1 == 200 && s2 == 200 && s3 == 200 && *a == *again) {
      return {*a, *b};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return out;
}

}  // namespace

TEST_CASE("partials records survive their encoding and refuse malformed input",
          "[engine][scale-out][fuzz]") {
  OwnerRecord o{3, "b", "http://127.0.0.1:9000", true, 120, 400, 1793491200000, 1793491201000};
  auto m = decode_partials(partials_key_owner(3), encode_owner(o));
  REQUIRE(m.ok());
  REQUIRE(m->owner);
  CHECK(m->owner->instance == "b");
  CHECK(m->owner->restoring);
  CHECK(m->owner->target_offset == 400);

  StockRecord s;
  s.partition = 2;
  s.instance = "a";
  s.next_offset = 77;
  s.published_at = 1793491201000;
  s.stock.apply(
      StockDelta{StockKey{"NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available}, 5});
  auto d = decode_partials(partials_key_stock(2), encode_stock(s));
  REQUIRE(d.ok());
  REQUIRE(d->stock);
  CHECK(d->stock->stock == s.stock);
  CHECK(d->stock->next_offset == 77);

  CHECK_FALSE(decode_partials(partials_key_stock(3), encode_stock(s)).ok());  // key != partition
  CHECK_FALSE(decode_partials("stock|x", "{}").ok());
  CHECK_FALSE(decode_partials("other|1", "{}").ok());
  CHECK_FALSE(decode_partials(partials_key_stock(2), "[1,2]").ok());
  // Found by fuzz_partials (fuzz/corpus/fuzz_partials/regression-huge-partition):
  // a number too large for the field was converted with undefined behaviour.
  CHECK_FALSE(decode_partials("stock|2", R"({"partition":29999999999999999999999})").ok());
  CHECK_FALSE(decode_partials(partials_key_stock(2),
                              R"({"partition":2,"instance":"a","next_offset":3e22,)"
                              R"("published_at":1,"cells":{}})")
                  .ok());
  CHECK_FALSE(decode_partials(partials_key_stock(2),
                              R"({"partition":2,"instance":"a","next_offset":1,"published_at":1,)"
                              R"("cells":{"NBS-BB|red_cells|O-|available":18446744073709551615}})")
                  .ok());
  CHECK_FALSE(decode_partials(partials_key_stock(2),
                              R"({"partition":2,"instance":"a","next_offset":1,"published_at":1,)"
                              R"("cells":{"NBS-BB|red_cells|O-|available":"five"}})")
                  .ok());
}

TEST_CASE(
    "a national answer counts every partition once, from its server or its last "
    "published counts, and says how fresh each share is",
    "[engine][scale-out]") {
  PartialsView view(KafkaConfig{});
  const StockKey k{"NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available};
  StockRecord remote;
  remote.partition = 1;
  remote.instance = "b";
  remote.next_offset = 40;
  remote.published_at = 1000;
  remote.stock.apply(StockDelta{k, 3});
  view.apply(Record{1, 0, partials_key_stock(1), encode_stock(remote), 0});
  view.apply(Record{1, 1, partials_key_owner(1),
                    encode_owner(OwnerRecord{1, "b", "http://b", false, 40, 40, 0, 1000}), 0});
  // A zombie's older counts for the same partition do not roll it back.
  StockRecord zombie;
  zombie.partition = 1;
  zombie.instance = "c";
  zombie.next_offset = 10;
  zombie.published_at = 1500;
  view.apply(Record{1, 2, partials_key_stock(1), encode_stock(zombie), 0});

  StockTable mine;
  mine.apply(StockDelta{k, 2});
  auto n = view.national({{0, mine}}, {{0, 12}}, 3, 1600);
  CHECK(n.stock.count(k) == 5);
  CHECK_FALSE(n.complete);  // partition 2 was never published
  REQUIRE(n.partitions.size() == 3);
  CHECK(n.partitions[0].source == "local");
  CHECK(n.partitions[1].source == "partials");
  CHECK(n.partitions[1].counted_from == "b");
  CHECK(n.partitions[1].next_offset == 40);
  CHECK(n.partitions[1].age_ms == 600);
  CHECK(n.partitions[2].source == "missing");
}

TEST_CASE(
    "three instances share the partitions, and one killed and one added under load change "
    "nothing in the answers, which equal a single instance's",
    "[engine][scale-out]") {
  Group g;
  const KnownStream stream = known_stream(600, "so");
  // And reagent lots at a lab, spread over the partitions by their keys.
  std::vector<std::pair<std::string, std::string>> reagents;  // key, JSON
  const TimeMs now = test_clock().now();
  for (int i = 0; i < 8; ++i) {
    const std::string lot = "AA-" + std::to_string(i);
    const json received = {{"id", "so-rg-" + std::to_string(i)},
                           {"type", "ReagentReceived"},
                           {"at", format_rfc3339(now - 20 * kDay)},
                           {"facility", "NBS-LAB"},
                           {"reagent", "anti-A"},
                           {"lot", lot},
                           {"quantity", 100 + i},
                           {"expires_at", format_rfc3339(now + 180 * kDay)}};
    const json used = {{"id", "so-rgu-" + std::to_string(i)},
                       {"type", "ReagentConsumed"},
                       {"at", format_rfc3339(now - 19 * kDay)},
                       {"facility", "NBS-LAB"},
                       {"reagent", "anti-A"},
                       {"lot", lot},
                       {"quantity", 3 * i + 1}};
    reagents.emplace_back("reagent:anti-A:" + lot, received.dump());
    reagents.emplace_back("reagent:anti-A:" + lot, used.dump());
  }
  const auto total = static_cast<std::int64_t>(stream.events.size() + reagents.size());
  for (const char* name : {"a", "b", "c"}) g.start(name, "national");

  std::atomic<int> failures{0};
  std::atomic<std::size_t> produced{0};
  std::thread generator([&] {
    for (std::size_t i = 0; i < stream.events.size(); ++i) {
      const Event& e = stream.events[i];
      if (!g.producer->produce("hemoledger.events", e.din, encode_binary(e))) ++failures;
      produced = i + 1;
      if (i % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (const auto& [key, value] : reagents) {
      if (!g.producer->produce("hemoledger.events", key, value)) ++failures;
    }
    if (!g.producer->flush(10000)) ++failures;
  });
  auto wait_produced = [&](std::size_t n) {
    while (produced.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  wait_produced(stream.events.size() / 3);
  g.instances["b"].process->signal(SIGKILL);  // dies mid-run: its partitions move
  g.instances["b"].process->wait();
  wait_produced(2 * stream.events.size() / 3);
  g.start("d", "national");  // joins mid-run: partitions move to it
  generator.join();
  REQUIRE(failures == 0);
  REQUIRE(g.producer->delivery_failures() == 0);

  // Settled: every partition served by exactly one live instance, caught up.
  const std::vector<std::string> live{"a", "c", "d"};
  const bool settled = wait_settled(g, live, total, 120);
  for (const auto& name : live)
    INFO(name << ": " << read_file(g.instances[name].log).substr(0, 4000));
  REQUIRE(settled);
  CHECK(serving(g.instances["d"].port).size() > 0);  // the new instance took its share

  // The reference: one instance alone reading the same topic.
  Instance& solo = g.start("solo", "solo", false);
  REQUIRE(eventually([&] { return committed_messages(solo.port) >= total; }, 120));
  auto solo_stock = get_json(solo.port, "/api/stock");
  REQUIRE(solo_stock);
  const auto reference = stock_cells_of(*solo_stock);
  CHECK(reference == stream.expected);

  // Every instance gives the same national stock once the partials of the
  // others reached it, and says it counted every partition.
  for (const auto& name : live) {
    INFO("instance " << name);
    std::optional<json> s;
    eventually(
        [&] {
          s = get_json(g.instances[name].port, "/api/stock");
          return s && stock_cells_of(*s) == reference;
        },
        30);
    REQUIRE(s);
    CHECK(stock_cells_of(*s) == reference);
    CHECK((*s)["freshness"]["complete"] == true);
    CHECK((*s)["freshness"]["partitions"].size() == kPartitions);
  }

  // Stock at past instants is national too: each instance sums its own
  // partitions' history and the other owners' answers, exactly as alone.
  for (std::size_t k : {std::size_t{0}, stream.events.size() / 4, stream.events.size() / 2,
                        stream.events.size() - 1}) {
    const std::string path = "/api/stock?at=" + format_rfc3339(stream.events[k].at);
    auto alone = get_json(solo.port, path);
    REQUIRE(alone);
    CHECK_FALSE(alone->contains("replayed_partitions"));
    for (const auto& name : live) {
      INFO(name << " " << path);
      auto j = get_json(g.instances[name].port, path);
      REQUIRE(j);
      CHECK(stock_cells_of(*j) == stock_cells_of(*alone));
      CHECK_FALSE(j->contains("replayed_partitions"));
    }
  }

  // A unit asked of any instance is answered by its owner, exactly as alone.
  for (int i = 0; i < 600; i += 37) {
    const std::string path = "/api/units/" + din_for(i);
    auto alone = get_json(solo.port, path);
    REQUIRE(alone);
    for (const auto& name : live) {
      int status = 0;
      auto j = get_following(g.instances[name].port, path, &status);
      INFO(name << " " << path);
      REQUIRE(j);
      CHECK(status == 200);
      CHECK(*j == *alone);
    }
  }
  // Pick lists and days of supply span partitions too: from any instance
  // they are the single instance's.
  auto pick_units = [](const json& body) {
    std::vector<std::string> out;
    for (const auto& u : body["units"])
      out.push_back(u.value("din", "") + "/" + u.value("product", ""));
    return out;
  };
  const std::string pick = "/api/pick?facility=NBS-BB&category=red_cells&abo_rh=O%2B";
  auto solo_pick = get_json(solo.port, pick);
  auto solo_supply = get_json(solo.port, "/api/supply?category=plasma");
  REQUIRE(solo_pick);
  REQUIRE(solo_supply);
  CHECK_FALSE(pick_units(*solo_pick).empty());
  auto solo_reagents = get_json(solo.port, "/api/reagents");
  REQUIRE(solo_reagents);
  CHECK_FALSE((*solo_reagents)["governorates"].empty());
  for (const auto& name : live) {
    INFO("pick and supply from instance " << name);
    auto p = get_json(g.instances[name].port, pick);
    auto s = get_json(g.instances[name].port, "/api/supply?category=plasma");
    REQUIRE(p);
    REQUIRE(s);
    CHECK(pick_units(*p) == pick_units(*solo_pick));
    CHECK((*s)["governorates"] == (*solo_supply)["governorates"]);
    CHECK((*s)["freshness"]["complete"] == true);
    auto r = get_json(g.instances[name].port, "/api/reagents");
    REQUIRE(r);
    CHECK((*r)["governorates"] == (*solo_reagents)["governorates"]);
  }

  // Alerts: the alert leader judges them on the national picture, and every
  // instance gives its answer; the open alerts are the single instance's
  // (same kinds, places, groups and severities).
  auto open_alerts = [](const json& body) {
    std::set<std::string> out;
    for (const auto& a : body["alerts"]) {
      out.insert(a.value("key", "") + " " + a.value("severity", ""));
    }
    return out;
  };
  auto solo_alerts = get_json(solo.port, "/api/alerts");
  REQUIRE(solo_alerts);
  const auto expected_alerts = open_alerts(*solo_alerts);
  CHECK_FALSE(expected_alerts.empty());
  for (const auto& name : live) {
    INFO("alerts from instance " << name);
    std::optional<json> a;
    eventually(
        [&] {
          a = get_json(g.instances[name].port, "/api/alerts");
          return a && a->contains("alerts") && open_alerts(*a) == expected_alerts;
        },
        30);
    REQUIRE(a);
    CHECK(open_alerts(*a) == expected_alerts);
  }

  int status = 0;
  auto redirect = get_json(g.instances["a"].port, "/api/units/" + din_for(1), &status);
  REQUIRE(redirect);
  if (status == 307) {
    CHECK((*redirect)["code"] == "elsewhere");
  } else {
    CHECK(status == 200);  // a serves that partition itself
  }

  // Each instance holds only what it serves, and its state is what its own
  // journal replays to.
  for (const auto& name : live) {
    g.instances[name].process->signal(SIGTERM);
    REQUIRE(g.instances[name].process->wait_for(30));
    const std::string rlog = g.dir.path() + "/rebuild-" + name + ".log";
    Child rebuild({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", g.instances[name].data},
                  {}, rlog);
    const int rs = rebuild.wait();
    INFO(read_file(rlog));
    CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
    CHECK_THAT(read_file(rlog), Catch::Contains("equals the live state"));
  }
}

TEST_CASE(
    "when the alert leader dies the next one continues its alerts instead of raising them "
    "again",
    "[engine][scale-out]") {
  Group g;
  const KnownStream stream = known_stream(300, "lead");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  for (const char* name : {"a", "b"}) g.start(name, "national");
  g.produce(stream.events);

  auto leader_of = [&](const std::vector<std::string>& names) { return alert_leader(g, names); };
  auto open_alerts = [](const json& body) {
    std::map<std::string, std::string> out;  // key -> severity
    for (const auto& a : body["alerts"]) out[a.value("key", "")] = a.value("severity", "");
    return out;
  };
  // Settled, with the leader's alerts in place.
  std::string leader;
  std::optional<json> before;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < end) {
    std::int64_t committed = 0;
    std::set<int> all;
    for (const char* n : {"a", "b"}) {
      auto parts = serving(g.instances[n].port);
      all.insert(parts.begin(), parts.end());
      auto h = get_json(g.instances[n].port, "/health");
      if (h) {
        for (int p : parts) committed += next_offset_of(*h, p);
      }
    }
    leader = leader_of({"a", "b"});
    if (static_cast<int>(all.size()) == kPartitions && committed >= total && !leader.empty()) {
      before = get_json(g.instances[leader].port, "/api/alerts");
      // Stable: the same answer twice, a second apart.
      std::this_thread::sleep_for(std::chrono::seconds(1));
      auto again = get_json(g.instances[leader].port, "/api/alerts");
      if (before && again && !(*before)["alerts"].empty() &&
          (*before)["last_seq"] == (*again)["last_seq"]) {
        break;
      }
    }
    before.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  REQUIRE(before);
  const auto open_before = open_alerts(*before);
  const auto seq_before = before->value("last_seq", std::uint64_t{0});

  const std::string survivor = leader == "a" ? "b" : "a";
  g.instances[leader].process->signal(SIGKILL);
  g.instances[leader].process->wait();

  // The survivor restores the dead leader's partitions, leads, and continues.
  std::optional<json> after;
  eventually(
      [&] {
        if (serving(g.instances[survivor].port).size() != kPartitions) return false;
        after = get_json(g.instances[survivor].port, "/api/alerts");
        return after && open_alerts(*after) == open_before;
      },
      90);
  INFO("before: " << before->dump().substr(0, 3000));
  INFO("after: " << (after ? after->dump().substr(0, 3000) : "none"));
  REQUIRE(after);
  CHECK(open_alerts(*after) == open_before);
  CHECK(after->value("last_seq", std::uint64_t{0}) >= seq_before);
  auto changes = get_json(g.instances[survivor].port, "/api/alerts?since=0");
  REQUIRE(changes);
  for (const auto& c : (*changes)["changes"]) {
    INFO(c.dump());
    const std::string key = c["alert"].value("key", "");
    CHECK(c.value("seq", std::uint64_t{0}) > seq_before);  // the survivor's own, after the leader's
    if (open_before.count(key)) CHECK(c["action"] != "raised");
  }
}

TEST_CASE(
    "a report asked of either of two instances gives the same figures, those of a single "
    "instance, and is refused rather than partial while a partition moves",
    "[engine][scale-out][reports]") {
  Group g;
  const KnownStream stream = known_stream(300, "rep");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  for (const char* name : {"a", "b"}) g.start(name, "national");
  g.produce(stream.events);
  REQUIRE(wait_settled(g, {"a", "b"}, total, 90));
  CHECK_FALSE(serving(g.instances["a"].port).empty());  // each serves a share
  CHECK_FALSE(serving(g.instances["b"].port).empty());

  Instance& solo = g.start("solo", "solo", false);
  REQUIRE(eventually([&] { return committed_messages(solo.port) >= total; }, 90));

  // The months the events fall in (the stream may straddle a month's end).
  std::set<std::string> months;
  for (const Event& e : stream.events) months.insert(format_rfc3339(e.at).substr(0, 7));
  // Figures kept by counters: a single instance reading the same events has them too.
  const std::vector<std::string> counted{"donations",
                                         "components_produced",
                                         "units",
                                         "wastage",
                                         "tti",
                                         "reserved_to_transfused",
                                         "collection_to_release"};
  std::int64_t donations = 0;
  json first_report;
  for (const auto& month : months) {
    for (const std::string scope : {"country", "GZA"}) {
      const std::string path = "/api/reports?period=" + month + "&scope=" + scope;
      INFO(path);
      std::pair<int, int> statuses;
      auto [from_a, from_b] =
          stable_reports(g.instances["a"].port, g.instances["b"].port, path, statuses);
      INFO("statuses " << statuses.first << " " << statuses.second);
      REQUIRE(from_a.is_object());
      CHECK(from_a == from_b);  // the same JSON, whichever instance is asked
      auto alone = get_json(solo.port, path);
      REQUIRE(alone);
      for (const auto& figure : counted) {
        INFO(figure);
        CHECK(from_a[figure] == (*alone)[figure]);
      }
      CHECK(from_a["trend"] == (*alone)["trend"]);
      if (scope == "country") {
        donations += from_a["donations"]["total"].get<std::int64_t>();
        if (first_report.is_null()) first_report = from_a;
      }
    }
  }
  std::int64_t collected = 0;
  for (const Event& e : stream.events) collected += e.type == EventType::donation_collected;
  CHECK(donations > 0);
  CHECK(donations <= collected);  // the refused ones are not counted

  // `hemoledger report --api` against either instance: the same figures.
  const std::string month = *months.begin();
  for (const char* name : {"a", "b"}) {
    const std::string out = g.dir.path() + "/report-" + name + ".json";
    Child report({HEMOLEDGER_BINARY, "report", "--api",
                  "http://127.0.0.1:" + std::to_string(g.instances[name].port), "--period", month,
                  "--format", "json"},
                 {}, out);
    const int rs = report.wait();
    INFO(read_file(out));
    REQUIRE((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
    const json printed = json::parse(read_file(out), nullptr, false);
    REQUIRE(printed.is_object());
    for (const auto& figure : counted) CHECK(printed[figure] == first_report[figure]);
  }

  // b dies: until a has restored b's partitions, a report is not given (503
  // with Retry-After), never one short of b's share.
  g.instances["b"].process->signal(SIGKILL);
  g.instances["b"].process->wait();
  const std::string path = "/api/reports?period=" + month;
  bool whole = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!whole && std::chrono::steady_clock::now() < until) {
    httplib::Client c("127.0.0.1", g.instances["a"].port);
    c.set_read_timeout(20);
    auto r = c.Get(path.c_str());
    REQUIRE(r);
    const json body = json::parse(r->body, nullptr, false);
    INFO(r->status << " " << r->body.substr(0, 400));
    if (r->status == 200) {
      for (const auto& figure : counted) CHECK(body[figure] == first_report[figure]);
      whole = serving(g.instances["a"].port).size() == kPartitions;
    } else {
      CHECK(r->status == 503);
      CHECK(body.value("error", "") == "partition_unavailable");
      CHECK(r->get_header_value("Retry-After") == "2");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(whole);
}

TEST_CASE(
    "an alert acknowledged and closed through an instance that does not lead the alerts shows "
    "so on both instances",
    "[engine][scale-out][alerts]") {
  Group g;
  const KnownStream stream = known_stream(300, "ack");
  const auto total = static_cast<std::int64_t>(stream.events.size());
  for (const char* name : {"a", "b"}) g.start(name, "national");
  g.produce(stream.events);
  REQUIRE(wait_settled(g, {"a", "b"}, total, 90));
  const std::string leader = alert_leader(g, {"a", "b"});
  REQUIRE_FALSE(leader.empty());
  const std::string other = leader == "a" ? "b" : "a";
  const int other_port = g.instances[other].port, leader_port = g.instances[leader].port;

  // Two open alerts, as the other instance shows them (forwarded to the leader).
  std::vector<std::string> ids;
  eventually(
      [&] {
        ids.clear();
        auto open = get_json(other_port, "/api/alerts");
        if (open && open->contains("alerts")) {
          for (const auto& a : (*open)["alerts"]) {
            if (ids.size() < 2) ids.push_back(a.value("id", ""));
          }
        }
        return ids.size() >= 2;
      },
      60);
  REQUIRE(ids.size() == 2);

  httplib::Client client("127.0.0.1", other_port);
  client.set_read_timeout(20);
  auto ack = client.Post("/api/alerts/" + ids[0] + "/acknowledge",
                         R"({"sector": "coordinators", "actor": "coord-1"})", "application/json");
  REQUIRE(ack);
  INFO(ack->body);
  CHECK(ack->status == 200);
  CHECK(json::parse(ack->body, nullptr, false).value("outcome", "") == "applied");
  CHECK(ack->get_header_value("X-Hemoledger-Answered-By") == leader);

  // Acknowledged, on both instances, at once (the answer came after the commit).
  for (int port : {other_port, leader_port}) {
    auto alerts = get_json(port, "/api/alerts");
    REQUIRE(alerts);
    const json a = alert_with_id(*alerts, ids[0]);
    INFO(port << " " << a.dump());
    REQUIRE(a.is_object());
    REQUIRE(a["acknowledged"].is_object());
    CHECK(a["acknowledged"]["sector"] == "coordinators");
  }
  // Its change is on the alerts' change list with the acknowledgement.
  auto changes = get_json(other_port, "/api/alerts?since=0");
  REQUIRE(changes);
  bool acknowledged = false;
  for (const auto& c : (*changes)["changes"]) {
    acknowledged |= c["alert"].value("id", "") == ids[0] && c.value("action", "") == "acknowledged";
  }
  CHECK(acknowledged);

  // A second acknowledgement is refused with the leader's reason.
  auto again = client.Post("/api/alerts/" + ids[0] + "/acknowledge",
                           R"({"sector": "coordinators"})", "application/json");
  REQUIRE(again);
  CHECK(again->status == 422);
  CHECK(json::parse(again->body, nullptr, false).value("code", "") == "already_acknowledged");

  // Closed with a note through the other instance: it leaves the open list of both.
  auto closed = client.Post("/api/alerts/" + ids[1] + "/close",
                            R"({"sector": "coordinators", "note": "moved units from NBS"})",
                            "application/json");
  REQUIRE(closed);
  INFO(closed->body);
  CHECK(closed->status == 200);
  for (int port : {other_port, leader_port}) {
    auto alerts = get_json(port, "/api/alerts");
    REQUIRE(alerts);
    CHECK(alert_with_id(*alerts, ids[1]).is_null());
    CHECK(alert_with_id(*alerts, ids[0]).is_object());
  }

  // Each instance's state is still what its own journal replays to.
  for (const char* name : {"a", "b"}) {
    g.instances[name].process->signal(SIGTERM);
    REQUIRE(g.instances[name].process->wait_for(30));
    const std::string rlog = g.dir.path() + "/rebuild-" + name + ".log";
    Child rebuild({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", g.instances[name].data},
                  {}, rlog);
    const int rs = rebuild.wait();
    INFO(read_file(rlog));
    CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
    CHECK_THAT(read_file(rlog), Catch::Contains("equals the live state"));
  }
}

namespace {

// Tubas's only O- red cell unit, collected, screened, released and issued two
// days before the test clock's now: a stock-out of a group in demand, Red.
std::vector<Event> tubas_o_neg_stock_out() {
  const TimeMs now = test_clock().now();
  EventMaker m("esc", now - 5 * kDay);
  const std::string din = "G123426500001", product = "E0336V00";
  std::vector<Event> events;
  Event c = m.make(EventType::donation_collected, "TUB-BB", din);
  c.donor = "DNR-5001";
  c.abo_rh = AboRh::o_neg;
  events.push_back(c);
  events.push_back(m.make(EventType::component_produced, "TUB-BB", din, product));
  for (auto [test, result] :
       {std::pair{"abo_rh", "O-"}, std::pair{"hiv", "negative"}, std::pair{"hbv", "negative"},
        std::pair{"hcv", "negative"}, std::pair{"syphilis", "negative"}}) {
    Event t = m.make(EventType::test_resulted, "TUB-LAB", din);
    t.test = test;
    t.result = result;
    events.push_back(t);
  }
  events.push_back(m.make(EventType::unit_released, "TUB-BB", din, product));
  Event issue = m.make(EventType::unit_issued, "TUB-BB", din, product);
  issue.at = now - 2 * kDay;  // demand of a whole past day
  issue.patient_abo_rh = AboRh::o_neg;
  issue.patient = "PAT-5001";
  issue.to = "TUB-HOS";
  events.push_back(issue);
  return events;
}

TimeMs time_field(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return 0;
  auto t = parse_rfc3339(j[key].get<std::string>());
  return t ? *t : 0;
}

}  // namespace

TEST_CASE(
    "a Red alert left unacknowledged escalates on the alert leader, shows so on both instances, "
    "is acknowledged through the other one, and either instance's report has the "
    "acknowledgement time",
    "[engine][scale-out][alerts][reports]") {
  Group g;
  // The office has two seconds to acknowledge: no minute of real waiting.
  const std::string routing = g.dir.path() + "/routing.json";
  std::ofstream(routing) << R"({"sectors": [
    {"code": "TUB-office", "name": "Tubas blood bank office", "receives": {"governorates": ["TUB"]},
     "acknowledge_within_seconds": 2, "escalate_to": "national"},
    {"code": "national", "name": "National directorate", "receives": {"severities": ["red"]},
     "members": ["director"]}
  ]})";
  for (const char* name : {"a", "b"}) g.start(name, "national", true, {"--routing", routing});
  const std::vector<Event> events = tubas_o_neg_stock_out();
  g.produce(events);
  REQUIRE(wait_settled(g, {"a", "b"}, static_cast<std::int64_t>(events.size()), 90));
  const std::string leader = alert_leader(g, {"a", "b"});
  REQUIRE_FALSE(leader.empty());
  const std::string other = leader == "a" ? "b" : "a";
  const int other_port = g.instances[other].port, leader_port = g.instances[leader].port;

  // The alert, as the other instance shows it, once the leader has passed it
  // to the national directorate.
  const std::string key = "supply_phase|TUB|red_cells|O-";
  json alert;
  const bool escalated = eventually(
      [&] {
        auto open = get_json(other_port, "/api/alerts?governorate=TUB");
        if (!open || !open->contains("alerts")) return false;
        for (const auto& a : (*open)["alerts"]) {
          if (a.value("key", "") == key) alert = a;
        }
        return alert.is_object() && alert["escalated_to"] == json::array({"national"});
      },
      60);
  INFO(alert.dump());
  REQUIRE(escalated);
  CHECK(alert["severity"] == "red");
  CHECK(alert["sector"] == "national");
  CHECK(time_field(alert, "escalated_at") == time_field(alert, "severity_at") + 2000);
  // The escalation clock ran on the leader only.
  CHECK_THAT(read_file(g.instances[leader].log), Catch::Contains("passed to the next sector up"));
  CHECK_THAT(read_file(g.instances[other].log), !Catch::Contains("passed to the next sector up"));
  const std::string id = alert.value("id", "");
  for (int port : {other_port, leader_port}) {
    auto changes = get_json(port, "/api/alerts?since=0");
    REQUIRE(changes);
    bool referred = false;
    for (const auto& c : (*changes)["changes"]) {
      referred |= c["alert"].value("id", "") == id && c.value("action", "") == "referred";
    }
    CHECK(referred);
  }

  // The directorate acknowledges it through the instance that does not lead.
  httplib::Client client("127.0.0.1", other_port);
  client.set_read_timeout(20);
  auto ack = client.Post("/api/alerts/" + id + "/acknowledge",
                         R"({"sector": "national", "actor": "director"})", "application/json");
  REQUIRE(ack);
  INFO(ack->body);
  CHECK(ack->status == 200);
  CHECK(ack->get_header_value("X-Hemoledger-Answered-By") == leader);
  json acked;
  for (int port : {other_port, leader_port}) {
    auto alerts = get_json(port, "/api/alerts");
    REQUIRE(alerts);
    acked = alert_with_id(*alerts, id);
    INFO(port << " " << acked.dump());
    REQUIRE(acked.is_object());
    REQUIRE(acked["acknowledged"].is_object());
    CHECK(acked["acknowledged"]["sector"] == "national");
    CHECK(acked["acknowledged"]["by"] == "director");
    CHECK(acked["escalated_to"] == json::array({"national"}));
  }
  const TimeMs raised = time_field(acked, "raised_at");
  const TimeMs acknowledged = time_field(acked["acknowledged"], "at");
  REQUIRE(acknowledged > raised);

  // The report of the month, asked of either instance: the same figures,
  // with the escalation and the time to acknowledge.
  auto report = [&](TimeMs t) {
    const std::string path = "/api/reports?period=" + format_rfc3339(t).substr(0, 7) + "&scope=TUB";
    std::pair<int, int> statuses;
    auto [from_a, from_b] =
        stable_reports(g.instances["a"].port, g.instances["b"].port, path, statuses);
    INFO(path << " statuses " << statuses.first << " " << statuses.second);
    REQUIRE(from_a.is_object());
    CHECK(from_a == from_b);
    return from_a;
  };
  const json r = report(acknowledged);
  INFO(r["alerts"].dump());
  CHECK(r["alerts"]["acknowledged"]["count"] == 1);
  CHECK(r["alerts"]["acknowledged"]["median_minutes"] == (acknowledged - raised) / kMinute);
  CHECK(r["alerts"]["by_kind"]["supply_phase"]["acknowledged"]["count"] == 1);
  CHECK(report(time_field(acked, "escalated_at"))["alerts"]["escalated"] == 1);

  // Each instance's state is still what its own journal replays to.
  for (const char* name : {"a", "b"}) {
    g.instances[name].process->signal(SIGTERM);
    REQUIRE(g.instances[name].process->wait_for(30));
    const std::string rlog = g.dir.path() + "/rebuild-" + name + ".log";
    Child rebuild({HEMOLEDGER_BINARY, "rebuild", "--check", "--data-dir", g.instances[name].data},
                  {}, rlog);
    const int rs = rebuild.wait();
    INFO(read_file(rlog));
    CHECK((WIFEXITED(rs) && WEXITSTATUS(rs) == 0));
    CHECK_THAT(read_file(rlog), Catch::Contains("equals the live state"));
  }
}
