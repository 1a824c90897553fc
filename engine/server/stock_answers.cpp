#include "engine/server/stock_answers.h"

#include "engine/queries/queries.h"

namespace hemoledger {

StockAnswers::StockAnswers(const Engine& engine) : engine_(engine) {
  renderer_ = std::thread([this] { render_loop(); });
}

StockAnswers::~StockAnswers() {
  stop_ = true;
  if (renderer_.joinable()) renderer_.join();
}

std::shared_ptr<const std::string> StockAnswers::render(const StockTable& table,
                                                        const StockFilter& filter) {
  const nlohmann::json body = stock_json(table, filter, engine_.reference());
  // As send_json() writes a body (engine/server/replies.h).
  return std::make_shared<const std::string>(
      body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

std::shared_ptr<const std::string> StockAnswers::body(const StockFilter& filter,
                                                      const std::string& key) {
  const Engine::StockSnapshot snap = engine_.stock_snapshot();
  {
    std::lock_guard lock(mu_);
    if (version_ == snap.version) {
      auto it = kept_.find(key);
      if (it != kept_.end()) return it->second;
    }
  }
  auto rendered = render(*snap.table, filter);
  std::lock_guard lock(mu_);
  if (version_ != snap.version) {
    if (version_ != ~std::uint64_t{0} && version_ > snap.version) return rendered;  // already newer
    kept_.clear();
    version_ = snap.version;
  }
  if (auto it = kept_.find(key); it != kept_.end()) return it->second;  // rendered meanwhile
  if (kept_.size() < kMaxKept) kept_.emplace(key, rendered);
  return rendered;
}

void StockAnswers::render_loop() {
  std::uint64_t seen = ~std::uint64_t{0};
  while (!stop_) {
    const Engine::StockSnapshot snap = seen == ~std::uint64_t{0}
                                           ? engine_.stock_snapshot()
                                           : engine_.wait_stock_snapshot(seen, 200);
    if (snap.version == seen) continue;
    seen = snap.version;
    (void)body(StockFilter{}, "");
  }
}

}  // namespace hemoledger
