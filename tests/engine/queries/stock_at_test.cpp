// Stock at a past instant from the stock history (engine/queries/stock_at.h)
// against a full replay of the journal (engine/ledger/replay.h stock_at), on
// a journal that the real apply path wrote (Engine::apply_records, RocksDB on
// disk) with late events: donations journaled days after events of other
// donations that happened later.
#include "engine/queries/stock_at.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "engine/cli/reference_files.h"
#include "engine/ledger/engine.h"
#include "engine/ledger/replay.h"
#include "events/binary_codec.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

static const ReferenceData& ref() { return shipped_engine_reference(); }

namespace {

constexpr std::int32_t kPartitions = 3;

// The known stream's donations spread over about fourteen months before the
// clock's now (so at least one year and many month boundaries are crossed),
// each donation's events minutes to days apart and in their own order; then
// journaled in time order except that every sixth donation arrives late, all
// its events together, up to three weeks after they happened.
struct LateJournal {
  std::vector<Event> journal;  // in journal order
  TimeMs first = 0, last = 0;
};

LateJournal late_journal(int donations, const TestClock& clock) {
  KnownStream s = known_stream(donations, "pit", clock);
  std::mt19937_64 rng(21);
  std::uniform_int_distribution<TimeMs> gap(kMinute, 2 * kDay);
  std::uniform_int_distribution<TimeMs> late(kHour, 21 * kDay);
  const TimeMs span = 425 * kDay;
  const TimeMs start = clock.now() - span - 30 * kDay;
  std::map<std::string, TimeMs> donation_time, delay;
  std::map<std::string, int> index;
  struct Placed {
    Event e;
    TimeMs journaled;
  };
  std::vector<Placed> placed;
  for (Event& e : s.events) {
    auto [it, fresh] = donation_time.try_emplace(e.din, 0);
    if (fresh) {
      const int i = static_cast<int>(index.size());
      index[e.din] = i;
      it->second = start + span * i / donations;
      delay[e.din] = i % 6 == 5 ? late(rng) : 0;
    } else {
      it->second += gap(rng);
    }
    e.at = it->second;
    placed.push_back({e, e.at + delay[e.din]});
  }
  std::stable_sort(placed.begin(), placed.end(),
                   [](const Placed& a, const Placed& b) { return a.journaled < b.journaled; });
  LateJournal out;
  out.first = std::numeric_limits<TimeMs>::max();
  for (auto& p : placed) {
    out.first = std::min(out.first, p.e.at);
    out.last = std::max(out.last, p.e.at);
    out.journal.push_back(std::move(p.e));
  }
  return out;
}

struct Fed {
  TempDir dir;
  std::unique_ptr<Engine> engine;
};

// Applies the journal through the engine in batches of 50 consumed records,
// each event in partition (index of its DIN) mod 3.
void feed(Engine& engine, const std::vector<Event>& journal, const TestClock& clock) {
  std::map<std::int32_t, std::int64_t> offset;
  std::vector<Record> batch;
  for (const Event& e : journal) {
    const auto p = static_cast<std::int32_t>(std::hash<std::string>{}(e.din) % kPartitions);
    batch.push_back(Record{p, offset[p]++, e.din, encode_binary(e), clock.now()});
    if (batch.size() == 50) {
      REQUIRE(engine.apply_records(batch).ok());
      batch.clear();
    }
  }
  REQUIRE(engine.apply_records(batch).ok());
}

std::vector<TimeMs> instants(const LateJournal& j, std::size_t random_count) {
  std::mt19937_64 rng(2027);
  std::uniform_int_distribution<TimeMs> any(j.first - kDay, j.last + kDay);
  std::vector<TimeMs> out = {j.first - 1, j.first, j.last, j.last + kDay};
  for (std::size_t i = 0; i < random_count; ++i) out.push_back(any(rng));
  // Bucket boundaries, and the instants of events and just before them.
  for (std::size_t i = 0; i < 40; ++i) {
    const TimeMs t = any(rng);
    for (HistoryLevel level : kHistoryLevels) {
      out.push_back(level_start(level, t));
      out.push_back(level_start(level, t) - 1);
    }
    const Event& e = j.journal[(i * 37) % j.journal.size()];
    out.push_back(e.at);
    out.push_back(e.at - 1);
  }
  return out;
}

}  // namespace

TEST_CASE("stock at an instant from the stock history equals a full replay, late events included",
          "[engine][stock_at]") {
  const TestClock clock;
  const LateJournal j = late_journal(240, clock);
  TempDir dir;
  EngineOptions o;
  o.data_dir = dir.path();
  o.clock = clock.clock();
  auto engine = Engine::open(o, ref(), nullptr);
  REQUIRE(engine.ok());
  feed(**engine, j.journal, clock);
  REQUIRE((*engine)->metrics().applied > 0);
  const Store& store = (*engine)->store();
  REQUIRE(store.partitions().size() == kPartitions);

  std::size_t differing = 0;
  for (TimeMs t : instants(j, 250)) {
    auto fast = stock_at_instant(store, ref(), Rules{}, t, store.partitions());
    REQUIRE(fast.ok());
    CHECK(fast->replayed.empty());
    auto replayed = stock_at(store, ref(), Rules{}, t);
    REQUIRE(replayed.ok());
    INFO("at " << format_rfc3339(t));
    CHECK(fast->stock == *replayed);
    if (!(fast->stock == (*engine)->stock())) ++differing;
  }
  CHECK(differing > 250);  // the instants are in the past: most differ from today's stock
  auto now = stock_at_instant(store, ref(), Rules{}, j.last, store.partitions());
  REQUIRE(now.ok());
  CHECK(now->stock == (*engine)->stock());

  // rebuild --check compares the history with its replay.
  auto check = rebuild((*engine)->store(), ref(), Rules{}, false);
  REQUIRE(check.ok());
  for (const auto& d : check->differences) INFO(d);
  CHECK(check->equal);

  // A stored sum that is not the sum of its events is found.
  Store::Batch tamper;
  const StockKey somewhere{"NBS-BB", Category::red_cells, AboRh::o_neg, UnitStatus::available};
  tamper.put_history_bucket(
      0, history_bucket_key(HistoryLevel::day, level_start(HistoryLevel::day, j.first), somewhere),
      1000);
  REQUIRE((*engine)->store().commit(tamper).ok());
  auto tampered = rebuild((*engine)->store(), ref(), Rules{}, false);
  REQUIRE(tampered.ok());
  CHECK_FALSE(tampered->equal);
}

TEST_CASE("a partition without a complete stock history is replayed until rebuild writes it",
          "[engine][stock_at]") {
  const TestClock clock;
  const LateJournal j = late_journal(60, clock);
  TempDir dir;
  EngineOptions o;
  o.data_dir = dir.path();
  o.clock = clock.clock();
  auto engine = Engine::open(o, ref(), nullptr);
  REQUIRE(engine.ok());
  feed(**engine, j.journal, clock);
  Store& store = (*engine)->store();
  const TimeMs middle = j.first + (j.last - j.first) / 2;
  auto expected = stock_at(store, ref(), Rules{}, middle);
  REQUIRE(expected.ok());
  REQUIRE_FALSE(expected->cells().empty());

  // As a journal written before the history existed: no history at all.
  Store::Batch b;
  b.clear_projections(1);
  REQUIRE(store.commit(b).ok());
  auto fallback = stock_at_instant(store, ref(), Rules{}, middle, store.partitions());
  REQUIRE(fallback.ok());
  CHECK(fallback->replayed == std::vector<std::int32_t>{1});
  CHECK(fallback->stock == *expected);
  auto check = rebuild(store, ref(), Rules{}, false);
  REQUIRE(check.ok());
  CHECK_FALSE(check->equal);

  // rebuild writes the projections and the history back.
  auto written = rebuild(store, ref(), Rules{}, true);
  REQUIRE(written.ok());
  auto fast = stock_at_instant(store, ref(), Rules{}, middle, store.partitions());
  REQUIRE(fast.ok());
  CHECK(fast->replayed.empty());
  CHECK(fast->stock == *expected);
  auto again = rebuild(store, ref(), Rules{}, false);
  REQUIRE(again.ok());
  for (const auto& d : again->differences) INFO(d);
  CHECK(again->equal);
}
