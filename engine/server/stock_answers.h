// StockAnswers: the bodies of GET /api/stock on a single instance, rendered
// once per stock snapshot (Engine::stock_snapshot) instead of once per
// request, so that an answer is a copy of a string made beforehand, not a
// computation competing with the apply thread for the cores.
//
//   StockAnswers answers(engine);                  // starts its renderer thread
//   auto body = answers.body(filter, key, ref);    // the exact bytes send_json would send
//
// The renderer thread waits for each new snapshot and renders the unfiltered
// answer at once; a filtered answer is rendered by the first request that
// asks for it and kept until the next snapshot (at most kMaxKept of them). An
// answer is never older than the snapshot current when body() is called: a
// request that arrives before the renderer finished renders it itself, so a
// client that saw its event's verdict sees its stock.
//
// Not for scale-out (the national picture changes with the other instances'
// records, not only with this engine's batches). Threading: body() from any
// thread; the destructor stops and joins the renderer.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/ledger/engine.h"
#include "engine/queries/query_filters.h"

namespace hemoledger {

class StockAnswers {
 public:
  static constexpr std::size_t kMaxKept = 64;

  explicit StockAnswers(const Engine& engine);
  ~StockAnswers();
  StockAnswers(const StockAnswers&) = delete;
  StockAnswers& operator=(const StockAnswers&) = delete;

  // The body for the filter, whose parameters `key` names ("" for none).
  std::shared_ptr<const std::string> body(const StockFilter& filter, const std::string& key);

 private:
  void render_loop();
  std::shared_ptr<const std::string> render(const StockTable& table, const StockFilter& filter);

  const Engine& engine_;
  std::mutex mu_;
  std::uint64_t version_ = ~std::uint64_t{0};  // of the snapshot the kept answers are for
  std::map<std::string, std::shared_ptr<const std::string>> kept_;
  std::atomic<bool> stop_{false};
  std::thread renderer_;
};

}  // namespace hemoledger
