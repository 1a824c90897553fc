#include "engine/ledger/alert_escalator.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "events/binary_codec.h"

namespace hemoledger {

AlertEscalator::AlertEscalator(const Store& store, const AlertRouting& routing, Producer& producer,
                               std::string topic, Clock clock, AlertEscalatorOptions options)
    : store_(store),
      routing_(routing),
      producer_(producer),
      topic_(std::move(topic)),
      clock_(std::move(clock)),
      options_(std::move(options)) {}

Result<std::size_t> AlertEscalator::tick() {
  if (routing_.empty() || (options_.leads_alerts && !options_.leads_alerts())) return 0;
  const TimeMs now = clock_.now();
  auto open = store_.open_alerts();
  if (!open) return open.error();
  std::map<std::string, TimeMs> still_due;
  std::size_t produced = 0;
  for (const auto& [key, text] : *open) {
    auto a = alert_from_json(nlohmann::json::parse(text, nullptr, false));
    if (!a) continue;
    const auto due = routing_.escalation_due(*a);
    if (!due || due->at > now) continue;
    Event e = alert_escalation_event(a->id, due->from, due->to, due->at);
    auto last = sent_.find(e.id);
    if (last != sent_.end() && now - last->second < options_.resend_ms) {
      still_due[e.id] = last->second;
      continue;
    }
    if (auto s = producer_.produce(topic_, event_key(e), encode_binary(e)); !s) return s.error();
    still_due[e.id] = now;
    ++produced;
  }
  sent_ = std::move(still_due);
  return produced;
}

void AlertEscalator::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    auto n = tick();
    if (!n)
      spdlog::warn("escalation: {}", n.error().message);
    else if (*n > 0)
      spdlog::info("escalation: {} Red alert(s) passed to the next sector up", *n);
    for (TimeMs waited = 0; waited < options_.interval_ms && !stop.load(); waited += 100) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace hemoledger
