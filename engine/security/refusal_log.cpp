#include "engine/security/refusal_log.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <deque>

namespace hemoledger {

using nlohmann::json;

json refusal_json(const Refusal& r) {
  return {{"at", format_rfc3339(r.at)}, {"who", r.who},       {"remote", r.remote},
          {"channel", r.channel},       {"method", r.method}, {"path", r.path},
          {"status", r.status},         {"code", r.code},     {"reason", r.reason}};
}

RefusalLog::RefusalLog(Store& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

Status RefusalLog::record(Refusal r) {
  if (r.at == 0) r.at = clock_.now();
  if (r.who.empty()) r.who = "anonymous";
  char id[40];
  std::snprintf(id, sizeof id, "%020lld|%010llu", static_cast<long long>(r.at),
                static_cast<unsigned long long>(++seq_ % 10000000000ULL));
  Store::Batch b;
  b.put_refusal(id, refusal_json(r).dump(-1, ' ', false, json::error_handler_t::replace));
  if (auto s = store_.commit(b); !s) {
    spdlog::error("refusals: cannot store the refusal of {} ({}): {}", r.who, r.code,
                  s.error().message);
    return s;
  }
  return {};
}

Result<json> refusals_json(const Store& store, std::size_t limit) {
  std::deque<json> kept;
  auto s = store.scan_refusals([&](std::string_view, std::string_view v) {
    json j = json::parse(v, nullptr, false);
    if (j.is_object()) {
      kept.push_back(std::move(j));
      if (kept.size() > limit) kept.pop_front();
    }
    return true;
  });
  if (!s) return s.error();
  json list = json::array();
  for (auto& j : kept) list.push_back(std::move(j));
  return json{{"refusals", list}};
}

}  // namespace hemoledger
