// GET /api/stock's answers made once per stock snapshot
// (engine/server/stock_answers.h): always the stock committed when asked,
// byte for byte what rendering it on the request would send.
#include "engine/server/stock_answers.h"

#include <catch2/catch.hpp>

#include "engine/cli/reference_files.h"
#include "engine/queries/queries.h"
#include "events/binary_codec.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

std::string rendered(const Engine& engine, const StockFilter& f) {
  return stock_json(engine.stock(), f, engine.reference())
             .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

}  // namespace

TEST_CASE("stock answers follow every committed batch, filtered or not", "[engine][api][stock]") {
  const TestClock clock;
  TempDir dir;
  EngineOptions o;
  o.data_dir = dir.path();
  o.clock = clock.clock();
  auto engine = Engine::open(o, shipped_engine_reference(), nullptr);
  REQUIRE(engine.ok());
  StockAnswers answers(**engine);
  StockFilter bank;
  bank.facility = "GZA-BB";
  const KnownStream stream = known_stream(40, "sa", clock);
  std::int64_t offset = 0;
  std::size_t batches = 0;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < stream.events.size(); i += 25) {
    std::vector<Record> batch;
    for (std::size_t k = i; k < std::min(i + 25, stream.events.size()); ++k) {
      const Event& e = stream.events[k];
      batch.push_back(Record{0, offset++, e.din, encode_binary(e), clock.now()});
    }
    REQUIRE((*engine)->apply_records(batch).ok());
    ++batches;
    const auto all = answers.body(StockFilter{}, "");
    CHECK(*all == rendered(**engine, StockFilter{}));
    CHECK(*answers.body(bank, "facility=GZA-BB&") == rendered(**engine, bank));
    CHECK(answers.body(StockFilter{}, "") == all);  // the same snapshot: the same answer
    seen.insert(*all);
  }
  CHECK(seen.size() > batches / 2);  // the answers moved with the stock
  const StockTable stock = (*engine)->stock();
  CHECK(std::map<StockKey, std::int64_t>(stock.cells().begin(), stock.cells().end()) ==
        stream.expected);
}
