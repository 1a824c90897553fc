#include "projections/stock.h"

#include <algorithm>

namespace hemoledger {

std::string encode_stock_key(const StockKey& k) {
  return k.facility + "|" + std::string(to_string(k.category)) + "|" +
         std::string(to_string(k.group)) + "|" + std::string(to_string(k.status)) +
         (k.thawed ? "|thawed" : "");
}

std::vector<std::string_view> split_key(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '|') {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

Result<StockKey> decode_stock_key(std::string_view text) {
  const auto parts = split_key(text);
  StockKey k;
  if (parts.size() < 4 || parts.size() > 5 || (parts.size() == 5 && parts[4] != "thawed") ||
      parts[0].empty() || !parse_category(parts[1], k.category) ||
      !parse_unit_status(parts[3], k.status)) {
    return make_error("corrupt_state", "A stored stock key cannot be read.");
  }
  k.facility = std::string(parts[0]);
  k.thawed = parts.size() == 5;
  if (parts[2] != "unknown") {
    auto g = parse_abo_rh(parts[2]);
    if (!g) return make_error("corrupt_state", "A stored stock key has a bad group.");
    k.group = *g;
  }
  return k;
}

std::vector<StockKey> stock_cells(const Donation& d) {
  std::vector<StockKey> out;
  const AboRh g = d.group();
  for (const auto& u : d.units) {
    if (in_stock(u.status)) {
      out.push_back(StockKey{u.holder, u.category, g, u.status, u.thawed_at != 0});
    }
  }
  return out;
}

std::vector<StockDelta> stock_diff(const Donation* before, const Donation& after) {
  std::map<StockKey, std::int64_t> change;
  if (before) {
    for (auto& k : stock_cells(*before)) --change[k];
  }
  for (auto& k : stock_cells(after)) ++change[k];
  std::vector<StockDelta> out;
  for (auto& [k, n] : change) {
    if (n != 0) out.push_back(StockDelta{k, n});
  }
  return out;
}

bool StockFilter::matches(const StockKey& k, const ReferenceData& ref) const {
  if (!facility.empty() && k.facility != facility) return false;
  if (!governorate.empty()) {
    const Facility* f = ref.facility(k.facility);
    if (!f || f->governorate != governorate) return false;
  }
  if (category != Category::unknown && k.category != category) return false;
  if (group != AboRh::unknown && k.group != group) return false;
  if (has_status && k.status != status) return false;
  return true;
}

void StockTable::apply(const StockDelta& d) {
  auto& n = cells_[d.key];
  n += d.change;
  if (n == 0) cells_.erase(d.key);
}

void StockTable::add(const StockTable& other) {
  for (const auto& [k, n] : other.cells_) apply(StockDelta{k, n});
}

std::int64_t StockTable::count(const StockKey& k) const {
  auto it = cells_.find(k);
  return it == cells_.end() ? 0 : it->second;
}

std::vector<std::pair<StockKey, std::int64_t>> StockTable::select(const StockFilter& f,
                                                                  const ReferenceData& ref) const {
  std::vector<std::pair<StockKey, std::int64_t>> out;
  for (const auto& [k, n] : cells_) {
    if (f.matches(k, ref)) out.emplace_back(k, n);
  }
  return out;
}

}  // namespace hemoledger
