#include "engine/ledger/expiry_ticker.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "events/binary_codec.h"

namespace hemoledger {

ExpiryTicker::ExpiryTicker(const Store& store, Producer& producer, std::string topic, Clock clock,
                           ExpiryTickerOptions options)
    : store_(store),
      producer_(producer),
      topic_(std::move(topic)),
      clock_(std::move(clock)),
      options_(options) {}

Result<std::size_t> ExpiryTicker::tick() {
  const TimeMs now = clock_.now();
  auto due = store_.due_expiries(now, options_.max_per_tick);
  if (!due) return due.error();
  std::map<std::string, TimeMs> still_due;
  std::size_t produced = 0;
  for (const auto& u : *due) {
    if (options_.serves_key && !options_.serves_key(u.din)) continue;
    const Event e = expiry_event(u.din, u.product, u.holder, u.expires_at);
    auto last = sent_.find(e.id);
    if (last != sent_.end() && now - last->second < options_.resend_ms) {
      still_due[e.id] = last->second;
      continue;
    }
    if (auto s = producer_.produce(topic_, e.din, encode_binary(e)); !s) return s.error();
    still_due[e.id] = now;
    ++produced;
  }
  // Reagent lots past their expiry that still hold stock.
  auto lots = store_.due_reagent_expiries(now, options_.max_per_tick);
  if (!lots) return lots.error();
  for (const auto& [lot_key, holder] : *lots) {
    const auto bar = lot_key.find('|');
    if (bar == std::string::npos) continue;
    ReagentLot lot;
    lot.reagent = lot_key.substr(0, bar);
    lot.lot = lot_key.substr(bar + 1);
    // The index key starts with the expiry; the lot itself carries it too.
    auto stored = store_.reagent_lot_anywhere(lot_key);
    if (!stored) return stored.error();
    if (!stored->has_value()) continue;
    const Event e = reagent_expiry_event(**stored, holder);
    if (options_.serves_key && !options_.serves_key(event_key(e))) continue;
    auto last = sent_.find(e.id);
    if (last != sent_.end() && now - last->second < options_.resend_ms) {
      still_due[e.id] = last->second;
      continue;
    }
    if (auto s = producer_.produce(topic_, event_key(e), encode_binary(e)); !s) return s.error();
    still_due[e.id] = now;
    ++produced;
  }
  sent_ = std::move(still_due);  // applied expiries leave the index, and this map
  if (options_.clock_tick_ms > 0 && now - last_tick_ >= options_.clock_tick_ms &&
      (!options_.keeps_clock || options_.keeps_clock())) {
    auto st = store_.alert_state();
    if (!st) return st.error();
    // Only once events have started the clock (an empty engine has no time to keep).
    if (st->clock > 0 && now - st->clock >= options_.clock_tick_ms) {
      const Event e = clock_tick_event(now);
      if (auto s = producer_.produce(topic_, event_key(e), encode_binary(e)); !s) return s.error();
      last_tick_ = now;
    }
  }
  return produced;
}

void ExpiryTicker::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    auto n = tick();
    if (!n)
      spdlog::warn("expiry: {}", n.error().message);
    else if (*n > 0)
      spdlog::info("expiry: produced UnitExpired for {} unit(s)", *n);
    for (TimeMs waited = 0; waited < options_.interval_ms && !stop.load(); waited += 100) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace hemoledger
