#include "projections/stock_history.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "projections/entry_digest.h"

using namespace hemoledger;

namespace {

TimeMs at(const char* text) {
  auto t = parse_rfc3339(text);
  REQUIRE(t.ok());
  return *t;
}

StockKey cell(const char* facility, UnitStatus status = UnitStatus::available) {
  return StockKey{facility, Category::red_cells, AboRh::o_neg, status};
}

std::map<std::string, std::int64_t> sums_of(const StockHistory& h) {
  const auto sums = h.bucket_sums();
  return {sums.begin(), sums.end()};
}

}  // namespace

TEST_CASE("level starts are the UTC year, month and day that contain an instant",
          "[projections][stock_history]") {
  const TimeMs t = at("2024-02-29T13:45:12.345Z");
  CHECK(level_start(HistoryLevel::year, t) == at("2024-01-01T00:00:00Z"));
  CHECK(level_start(HistoryLevel::month, t) == at("2024-02-01T00:00:00Z"));
  CHECK(level_start(HistoryLevel::day, t) == at("2024-02-29T00:00:00Z"));
  // An instant on a boundary starts its own bucket.
  CHECK(level_start(HistoryLevel::month, at("2025-03-01T00:00:00Z")) == at("2025-03-01T00:00:00Z"));
  // Before the epoch too.
  const TimeMs old = at("1969-12-31T23:30:00Z");
  CHECK(level_start(HistoryLevel::year, old) == at("1969-01-01T00:00:00Z"));
  CHECK(level_start(HistoryLevel::day, old) == at("1969-12-31T00:00:00Z"));
}

TEST_CASE("time keys sort as the instants do and read back", "[projections][stock_history]") {
  std::vector<TimeMs> times = {
      std::numeric_limits<TimeMs>::min(), -kDay, -1, 0, 1, at("2026-11-20T12:00:00Z"),
      std::numeric_limits<TimeMs>::max()};
  std::vector<std::string> keys;
  for (TimeMs t : times) {
    keys.push_back(time_key(t));
    TimeMs back = 0;
    REQUIRE(parse_time_key(keys.back(), back));
    CHECK(back == t);
  }
  CHECK(std::is_sorted(keys.begin(), keys.end()));
  TimeMs ignored;
  CHECK_FALSE(parse_time_key("00000000000000zz", ignored));
}

TEST_CASE("a history plan counts every earlier instant exactly once and no later one",
          "[projections][stock_history]") {
  // An event at t is counted when one level's range holds the start of its
  // bucket at that level, or when t itself is among the single events.
  auto times_counted = [](const HistoryPlan& plan, TimeMs t) {
    int n = 0;
    for (const auto& r : plan.ranges) {
      const TimeMs start = level_start(r.level, t);
      if (start >= r.from && start < r.to) ++n;
    }
    if (t >= plan.events_from && t <= plan.events_to) ++n;
    return n;
  };
  std::mt19937_64 rng(2026);
  const TimeMs base = at("2023-06-15T00:00:00Z");
  std::uniform_int_distribution<TimeMs> spread(0, 900 * kDay);
  std::uniform_int_distribution<TimeMs> near(-2 * kDay, 2 * kDay);
  for (int i = 0; i < 5000; ++i) {
    const TimeMs q = base + spread(rng);
    const HistoryPlan plan = history_plan(q);
    const TimeMs t = i % 2 ? base + spread(rng) : q + near(rng);
    INFO("query " << format_rfc3339(q) << ", event " << format_rfc3339(t));
    CHECK(times_counted(plan, t) == (t <= q ? 1 : 0));
  }
  // The instant itself, and the boundaries around it.
  const TimeMs q = at("2026-01-01T00:00:00Z");
  CHECK(times_counted(history_plan(q), q) == 1);
  CHECK(times_counted(history_plan(q), q - 1) == 1);
  CHECK(times_counted(history_plan(q), q + 1) == 0);
  CHECK(times_counted(history_plan(q - 1), q) == 0);
}

TEST_CASE("a stock history sums each event's changes into its year, month and day",
          "[projections][stock_history]") {
  StockHistory h;
  const TimeMs t = at("2026-11-20T08:15:00Z");
  h.record(t, 7, {{cell("NBS-BB", UnitStatus::quarantined), -1}, {cell("NBS-BB"), 1}});
  h.record(t + kMinute, 9, {{cell("NBS-BB"), 1}});
  h.record(t + 2 * kMinute, 10, {});  // no change: nothing recorded
  CHECK(h.event_count() == 2);
  for (HistoryLevel level : kHistoryLevels) {
    const TimeMs start = level_start(level, t);
    CHECK(sums_of(h).at(history_bucket_key(level, start, cell("NBS-BB"))) == 2);
    CHECK(sums_of(h).at(
              history_bucket_key(level, start, cell("NBS-BB", UnitStatus::quarantined))) == -1);
  }
  CHECK(h.bucket_sums().size() == 6);
  // A change undone in the same buckets leaves no bucket behind.
  h.record(t + 3 * kMinute, 11, {{cell("NBS-BB", UnitStatus::quarantined), 1}});
  CHECK(h.bucket_sums().size() == 3);
}

TEST_CASE("the digest of a history's single events does not depend on their order",
          "[projections][stock_history]") {
  const TimeMs t = at("2026-11-20T08:15:00Z");
  StockHistory a(/*sum_buckets=*/true, /*keep_events=*/true), b;
  a.record(t, 1, {{cell("NBS-BB"), 1}});
  a.record(t - kDay, 2, {{cell("GZA-BB"), 1}});
  b.record(t - kDay, 2, {{cell("GZA-BB"), 1}});
  b.record(t, 1, {{cell("NBS-BB"), 1}});
  CHECK(a.event_digest() == b.event_digest());
  CHECK(a.bucket_sums() == b.bucket_sums());
  REQUIRE(a.events().size() == 2);
  CHECK(b.events().empty());  // not kept
  std::uint64_t sum = 0;
  for (const auto& [k, v] : a.events()) sum += EntryDigest::term(k, v);
  CHECK(sum == a.event_digest());
  StockHistory c;
  c.record(t, 1, {{cell("NBS-BB"), 2}});
  CHECK(c.event_digest() != EntryDigest::term(a.events()[0].first, a.events()[0].second));
}

TEST_CASE("an event's stock changes read back as they were written",
          "[projections][stock_history]") {
  const std::vector<StockDelta> deltas = {{cell("NBS-BB", UnitStatus::quarantined), -1},
                                          {cell("RBH-BB", UnitStatus::in_transit), 3}};
  std::vector<std::pair<std::string, std::int64_t>> read;
  REQUIRE(decode_event_deltas(encode_event_deltas(deltas), [&](std::string_view k, std::int64_t n) {
    read.emplace_back(std::string(k), n);
  }));
  REQUIRE(read.size() == 2);
  CHECK(read[0] == std::make_pair(encode_stock_key(deltas[0].key), std::int64_t{-1}));
  CHECK(read[1] == std::make_pair(encode_stock_key(deltas[1].key), std::int64_t{3}));
  const std::string damaged = encode_event_deltas(deltas).substr(0, 12);
  CHECK_FALSE(decode_event_deltas(damaged, [](std::string_view, std::int64_t) {}));
}

TEST_CASE("the bucket digest of single events visited in time order is that of their sums",
          "[projections][stock_history]") {
  std::mt19937_64 rng(5);
  const TimeMs base = at("2025-12-30T20:00:00Z");  // a year, month and day boundary inside
  std::uniform_int_distribution<TimeMs> when(0, 5 * kDay);
  const char* banks[] = {"NBS-BB", "GZA-BB", "HBN-BB"};
  StockHistory h(/*sum_buckets=*/true, /*keep_events=*/true);
  for (int i = 0; i < 400; ++i) {
    const StockKey from = cell(banks[i % 3], UnitStatus::quarantined);
    const StockKey to = cell(banks[(i / 3) % 3]);
    h.record(base + when(rng), i, {{from, -1}, {to, 1}});
  }
  auto events = h.events();
  std::sort(events.begin(), events.end());  // time order, as the store keeps them
  BucketDigest d;
  for (const auto& [k, v] : events) {
    TimeMs t = 0;
    REQUIRE(parse_time_key(std::string_view(k).substr(0, 16), t));
    REQUIRE(d.add(t, v));
  }
  d.finish();
  std::uint64_t digest = 0;
  for (const auto& [k, sum] : h.bucket_sums()) digest += StockHistory::bucket_digest_of(k, sum);
  CHECK(d.count() == h.bucket_sums().size());
  CHECK(d.digest() == digest);
  // One sum changed: the digests differ.
  CHECK(StockHistory::bucket_digest_of(h.bucket_sums()[0].first, h.bucket_sums()[0].second + 1) !=
        StockHistory::bucket_digest_of(h.bucket_sums()[0].first, h.bucket_sums()[0].second));
}
