// Stock: unit counts by facility, component category, ABO/RhD group and status,
// and the deltas one event makes to them.
//
// Governorate totals are not stored: a facility belongs to exactly one
// governorate (reference data), so they are summed at query time. The engine
// keeps one StockTable per Kafka partition (partial counts) and a summed one
// for queries; all are plain values, not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "events/reference_data.h"
#include "projections/unit_state.h"

namespace hemoledger {

struct StockKey {
  std::string facility;
  Category category = Category::unknown;
  AboRh group = AboRh::unknown;
  UnitStatus status = UnitStatus::available;
  bool thawed = false;  // thawed plasma or cryo, counted apart from frozen

  auto operator<=>(const StockKey&) const = default;
};

struct StockDelta {
  StockKey key;
  std::int64_t change = 0;
};

// The '|'-separated fields of a stored key.
std::vector<std::string_view> split_key(std::string_view text);

// "facility|category|group|status", e.g. "NBS-BB|red_cells|O-|available",
// with "|thawed" appended for thawed units ("NBS-BB|plasma|AB+|available|thawed").
std::string encode_stock_key(const StockKey& k);
[[nodiscard]] Result<StockKey> decode_stock_key(std::string_view text);

// The stock cells a donation occupies (one per unit in stock).
std::vector<StockKey> stock_cells(const Donation& d);
// What changes when a donation goes from `before` (may be null) to `after`.
std::vector<StockDelta> stock_diff(const Donation* before, const Donation& after);

struct StockFilter {
  std::string governorate, facility;  // empty = all
  Category category = Category::unknown;
  AboRh group = AboRh::unknown;
  bool has_status = false;
  UnitStatus status = UnitStatus::available;

  bool matches(const StockKey& k, const ReferenceData& ref) const;
};

class StockTable {
 public:
  void apply(const StockDelta& d);
  void add(const StockTable& other);
  std::int64_t count(const StockKey& k) const;
  // Non-zero cells that match, in key order.
  std::vector<std::pair<StockKey, std::int64_t>> select(const StockFilter& f,
                                                        const ReferenceData& ref) const;
  const std::map<StockKey, std::int64_t>& cells() const { return cells_; }
  bool operator==(const StockTable&) const = default;

 private:
  std::map<StockKey, std::int64_t> cells_;  // zero counts are erased
};

}  // namespace hemoledger
