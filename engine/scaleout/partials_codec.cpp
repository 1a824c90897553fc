#include "engine/scaleout/partials_codec.h"

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "engine/storage/stored_json.h"

namespace hemoledger {

using nlohmann::json;

namespace {

constexpr std::string_view kOwner = "owner|";
constexpr std::string_view kStock = "stock|";
constexpr std::string_view kLookback = "lookback|";

Error bad(std::string what) { return make_error("bad_partials", std::move(what)); }

// A partition number from the key's tail: digits only, 0..1,000,000.
Result<std::int32_t> partition_of_key(std::string_view tail) {
  if (tail.empty() || tail.size() > 7) return bad("the key has no partition number");
  std::int32_t p = 0;
  for (char c : tail) {
    if (c < '0' || c > '9') return bad("the key's partition is not a number");
    p = p * 10 + (c - '0');
  }
  return p;
}

// A field of the exact JSON type, and for numbers an integer that fits `T`
// (nlohmann's own conversion of 3e22 to an int is undefined behaviour).
template <typename T>
bool get(const json& j, const char* name, T& out) {
  auto it = j.find(name);
  if (it == j.end()) return false;
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return false;
    out = it->get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
    out = it->get<std::string>();
  } else {
    static_assert(std::is_integral_v<T>);
    if (it->is_number_unsigned()) {
      const auto v = it->get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
      out = static_cast<T>(v);
    } else if (it->is_number_integer()) {
      const auto v = it->get<std::int64_t>();
      if constexpr (std::is_signed_v<T>) {
        if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return false;
      } else {
        if (v < 0) return false;
      }
      out = static_cast<T>(v);
    } else {
      return false;
    }
  }
  return true;
}

// A count: an integer that fits int64.
bool count_of(const json& n, std::int64_t& out) {
  if (n.is_number_unsigned()) {
    const auto v = n.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(v);
    return true;
  }
  if (!n.is_number_integer()) return false;
  out = n.get<std::int64_t>();
  return true;
}

}  // namespace

std::string partials_key_owner(std::int32_t partition) {
  return std::string(kOwner) + std::to_string(partition);
}
std::string partials_key_stock(std::int32_t partition) {
  return std::string(kStock) + std::to_string(partition);
}

std::string partials_key_lookback(const PendingLookback& l) {
  return std::string(kLookback) + l.din + "|" + l.test;
}

std::string encode_lookback(const PendingLookback& l) {
  return stored_json({{"partition", l.partition},
                      {"din", l.din},
                      {"donor", l.donor},
                      {"test", l.test},
                      {"facility", l.facility},
                      {"at", l.at},
                      {"collected_at", l.collected_at}});
}

std::string encode_owner(const OwnerRecord& r) {
  return stored_json({{"partition", r.partition},
                      {"instance", r.instance},
                      {"url", r.url},
                      {"restoring", r.restoring},
                      {"next_offset", r.next_offset},
                      {"target_offset", r.target_offset},
                      {"clock", r.clock},
                      {"published_at", r.published_at}});
}

namespace {

// Reagent lots travel in their stored binary form (cereal), as hex text.
std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

Result<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return bad("odd hex length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return bad("not hex");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

}  // namespace

std::string encode_stock(const StockRecord& r) {
  json cells = json::object();
  for (const auto& [k, n] : r.stock.cells()) cells[encode_stock_key(k)] = n;
  json demand = json::object();
  for (const auto& [k, n] : r.demand) demand[encode_demand_key(k)] = n;
  json index = json::array();
  for (const auto& e : r.index) index.push_back({std::string(1, e.kind), e.key, e.value});
  json lots = json::array();
  for (const auto& [k, lot] : r.lots) lots.push_back(to_hex(encode_reagent_lot(lot)));
  json usage = json::object();
  for (const auto& [k, n] : r.usage) usage[encode_usage_key(k)] = n;
  return stored_json({{"partition", r.partition},
                      {"instance", r.instance},
                      {"next_offset", r.next_offset},
                      {"published_at", r.published_at},
                      {"clock", r.clock},
                      {"cells", std::move(cells)},
                      {"demand", std::move(demand)},
                      {"index", std::move(index)},
                      {"lots", std::move(lots)},
                      {"usage", std::move(usage)}});
}

std::string encode_alerts(const AlertsRecord& r, const ReferenceData& ref) {
  json open = json::array();
  for (const auto& [k, a] : r.open) open.push_back(alert_json(a, ref));
  return stored_json(
      {{"instance", r.instance}, {"seq", r.seq}, {"clock", r.clock}, {"open", open}});
}

namespace {

Result<PartialsMessage> decode_lookback(std::string_view key, std::string_view value) {
  const json j = json::parse(value, nullptr, false, true);
  if (!j.is_object()) return bad("a partials record must be a JSON object");
  PendingLookback l;
  if (!get(j, "partition", l.partition) || !get(j, "din", l.din) || !get(j, "donor", l.donor) ||
      !get(j, "test", l.test) || !get(j, "facility", l.facility) || !get(j, "at", l.at) ||
      !get(j, "collected_at", l.collected_at) || l.donor.empty() ||
      key != partials_key_lookback(l)) {
    return bad(
        "a lookback record needs partition, din, donor, test, facility, at and "
        "collected_at, and the key lookback|<din>|<test>");
  }
  PartialsMessage out;
  out.lookback = std::move(l);
  return out;
}

Result<PartialsMessage> decode_alerts(std::string_view value) {
  const json j = json::parse(value, nullptr, false, true);
  AlertsRecord a;
  if (!j.is_object() || !get(j, "instance", a.instance) || !get(j, "seq", a.seq) ||
      !get(j, "clock", a.clock) || !j.contains("open") || !j["open"].is_array()) {
    return bad("an alerts record needs instance, seq, clock and open");
  }
  for (const auto& item : j["open"]) {
    auto alert = alert_from_json(item);
    if (!alert) return alert.error();
    a.open.emplace(alert->key, std::move(*alert));
  }
  PartialsMessage out;
  out.alerts = std::move(a);
  return out;
}

Result<PartialsMessage> decode_owner(const json& j, std::int32_t partition) {
  OwnerRecord r;
  r.partition = partition;
  if (!get(j, "instance", r.instance) || !get(j, "url", r.url) ||
      !get(j, "restoring", r.restoring) || !get(j, "next_offset", r.next_offset) ||
      !get(j, "target_offset", r.target_offset) || !get(j, "clock", r.clock) ||
      !get(j, "published_at", r.published_at)) {
    return bad(
        "an owner record needs instance, url, restoring, next_offset, target_offset, "
        "clock and published_at");
  }
  PartialsMessage out;
  out.owner = std::move(r);
  return out;
}

// The stock record's demand and index entries (optional: see decode_stock).
Status decode_demand_and_index(const json& j, StockRecord& r) {
  if (auto d = j.find("demand"); d != j.end() && d->is_object()) {
    for (const auto& [text, n] : d->items()) {
      auto k = decode_demand_key(text);
      if (!k) return k.error();
      if (!count_of(n, r.demand[*k])) return bad("a demand count must be an integer");
    }
  }
  if (auto ix = j.find("index"); ix != j.end() && ix->is_array()) {
    for (const auto& e : *ix) {
      if (!e.is_array() || e.size() != 3 || !e[0].is_string() || !e[1].is_string() ||
          !e[2].is_string() || e[0].get<std::string>().size() != 1) {
        return bad("an index entry is [kind, key, value]");
      }
      r.index.push_back(
          IndexEntry{e[0].get<std::string>()[0], e[1].get<std::string>(), e[2].get<std::string>()});
    }
  }
  return {};
}

// The stock record's reagent lots and usage (optional: see decode_stock).
Status decode_reagents(const json& j, StockRecord& r) {
  if (auto lots = j.find("lots"); lots != j.end() && lots->is_array()) {
    for (const auto& hex : *lots) {
      if (!hex.is_string()) return bad("a lot is hex text");
      auto bytes = from_hex(hex.get<std::string>());
      if (!bytes) return bytes.error();
      auto lot = decode_reagent_lot(*bytes);
      if (!lot) return lot.error();
      r.lots[reagent_lot_key(lot->reagent, lot->lot)] = std::move(*lot);
    }
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    for (const auto& [text, n] : u->items()) {
      auto k = decode_usage_key(text);
      if (!k) return k.error();
      if (!count_of(n, r.usage[*k])) return bad("a usage count must be an integer");
    }
  }
  return {};
}

Result<PartialsMessage> decode_stock(const json& j, std::int32_t partition) {
  StockRecord r;
  r.partition = partition;
  if (!get(j, "instance", r.instance) || !get(j, "next_offset", r.next_offset) ||
      !get(j, "published_at", r.published_at)) {
    return bad("a stock record needs instance, next_offset and published_at");
  }
  auto cells = j.find("cells");
  if (cells == j.end() || !cells->is_object()) return bad("a stock record needs its cells");
  for (const auto& [text, n] : cells->items()) {
    auto k = decode_stock_key(text);
    if (!k) return k.error();
    std::int64_t count = 0;
    if (!count_of(n, count)) return bad("a stock count must be an integer");
    r.stock.apply(StockDelta{*k, count});
  }
  // The alert inputs (absent in records of older instances: none).
  get(j, "clock", r.clock);
  if (auto s = decode_demand_and_index(j, r); !s) return s.error();
  if (auto s = decode_reagents(j, r); !s) return s.error();
  PartialsMessage out;
  out.stock = std::move(r);
  return out;
}

}  // namespace

Result<PartialsMessage> decode_partials(std::string_view key, std::string_view value) {
  if (key.substr(0, kLookback.size()) == kLookback) return decode_lookback(key, value);
  if (key == kPartialsKeyAlerts) return decode_alerts(value);
  const bool is_owner = key.substr(0, kOwner.size()) == kOwner;
  const bool is_stock = key.substr(0, kStock.size()) == kStock;
  if (!is_owner && !is_stock) return bad("unknown partials key");
  auto p = partition_of_key(key.substr(is_owner ? kOwner.size() : kStock.size()));
  if (!p) return p.error();
  const json j = json::parse(value, nullptr, false, true);
  if (!j.is_object()) return bad("a partials record must be a JSON object");
  std::int32_t partition = -1;
  if (!get(j, "partition", partition) || partition != *p) {
    return bad("the record's partition differs from its key's");
  }
  return is_owner ? decode_owner(j, partition) : decode_stock(j, partition);
}

}  // namespace hemoledger
