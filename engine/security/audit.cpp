#include "engine/security/audit.h"

#include <algorithm>
#include <tuple>

#include "events/binary_codec.h"

namespace hemoledger {

using nlohmann::json;

namespace {

std::string text_or_empty(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

Result<json> audit_json(const Store& store, const std::string& din, const std::string& product) {
  // (partition, position, entry): a donation's events share one partition,
  // so ordering by position is the order the engine saw them.
  std::vector<std::tuple<std::int32_t, std::int64_t, json>> rows;
  auto concerns = [&](const std::string& d, const std::string& p) {
    return d == din && (product.empty() || p.empty() || p == product);
  };
  for (const auto p : store.partitions()) {
    Error failure;
    auto s = store.scan_journal(p, 0, [&](std::int64_t pos, std::string_view value) {
      auto e = decode_binary(value);
      if (!e) {
        failure = e.error();
        return false;
      }
      if (!concerns(e->din, e->product)) return true;
      json j = {{"position", pos},
                {"at", format_rfc3339(e->at)},
                {"type", std::string(to_string(e->type))},
                {"facility", e->facility},
                {"actor", e->actor},
                {"station", e->station},
                {"event_id", e->id},
                {"outcome", "applied"}};
      if (!e->product.empty()) j["product"] = e->product;
      rows.emplace_back(p, pos, std::move(j));
      return true;
    });
    if (!s) return s.error();
    if (!failure.code.empty()) {
      return make_error("corrupt_state", "A journal entry is damaged: " + failure.message);
    }
    s = store.scan_rejections(p, 0, [&](std::int64_t pos, std::string_view value) {
      const json r = json::parse(value, nullptr, false);
      if (!r.is_object()) return true;
      if (!concerns(text_or_empty(r, "din"), text_or_empty(r, "product"))) return true;
      // The message as sent says who sent it and when it happened.
      std::string actor, station, at = text_or_empty(r, "recorded_at");
      if (auto sent = decode_event(text_or_empty(r, "raw")); sent) {
        actor = sent->actor;
        station = sent->station;
        at = format_rfc3339(sent->at);
      }
      json j = {{"position", pos},
                {"at", at},
                {"type", text_or_empty(r, "type")},
                {"facility", text_or_empty(r, "facility")},
                {"actor", actor},
                {"station", station},
                {"event_id", text_or_empty(r, "event_id")},
                {"outcome", "rejected"},
                {"code", text_or_empty(r, "code")},
                {"message", text_or_empty(r, "message")}};
      if (!text_or_empty(r, "product").empty()) j["product"] = text_or_empty(r, "product");
      rows.emplace_back(p, pos, std::move(j));
      return true;
    });
    if (!s) return s.error();
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  json entries = json::array();
  for (auto& r : rows) entries.push_back(std::move(std::get<2>(r)));
  json out = {{"din", din}, {"entries", entries}};
  out["product"] = product.empty() ? json(nullptr) : json(product);
  return out;
}

}  // namespace hemoledger
