#include "projections/stock_history.h"

#include <algorithm>
#include <limits>

#include "projections/entry_digest.h"
#include "projections/indexes.h"

namespace hemoledger {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void put_i64(std::string& out, std::int64_t v) {
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff);
}

}  // namespace

TimeMs level_start(HistoryLevel level, TimeMs t) {
  switch (level) {
    case HistoryLevel::day:
      return floor_div(t, kDay) * kDay;
    case HistoryLevel::month: {
      const CivilDate c = civil_from_days(floor_div(t, kDay));
      return days_from_civil(c.y, c.m, 1) * kDay;
    }
    case HistoryLevel::year: {
      const CivilDate c = civil_from_days(floor_div(t, kDay));
      return days_from_civil(c.y, 1, 1) * kDay;
    }
  }
  return t;
}

std::string time_key(TimeMs t) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t u = static_cast<std::uint64_t>(t) ^ (1ull << 63);
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, u >>= 4) out[i] = kHex[u & 0xf];
  return out;
}

bool parse_time_key(std::string_view text, TimeMs& out) {
  if (text.size() != 16) return false;
  std::uint64_t u = 0;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      return false;
    }
    u = (u << 4) | static_cast<std::uint64_t>(v);
  }
  out = static_cast<TimeMs>(u ^ (1ull << 63));
  return true;
}

std::string history_bucket_key(HistoryLevel level, TimeMs start, const StockKey& cell) {
  std::string k(1, static_cast<char>(level));
  k += time_key(start);
  k += '|';
  k += encode_stock_key(cell);
  return k;
}

std::string_view bucket_cell(std::string_view bucket_key) {
  const auto bar = bucket_key.find('|');
  return bar == std::string_view::npos ? std::string_view{} : bucket_key.substr(bar + 1);
}

std::string history_event_key(TimeMs at, std::int64_t position) {
  return time_key(at) + "|" + decimal20(position);
}

std::string encode_event_deltas(const std::vector<StockDelta>& deltas) {
  std::string out;
  for (const auto& d : deltas) {
    const std::string cell = encode_stock_key(d.key);
    put_i64(out, d.change);
    const std::size_t n = std::min<std::size_t>(cell.size(), 0xffff);
    out += static_cast<char>(n & 0xff);
    out += static_cast<char>((n >> 8) & 0xff);
    out.append(cell, 0, n);
  }
  return out;
}

HistoryPlan history_plan(TimeMs at) {
  const TimeMs year = level_start(HistoryLevel::year, at);
  const TimeMs month = level_start(HistoryLevel::month, at);
  const TimeMs day = level_start(HistoryLevel::day, at);
  HistoryPlan plan;
  plan.ranges = {{HistoryLevel::year, std::numeric_limits<TimeMs>::min(), year},
                 {HistoryLevel::month, year, month},
                 {HistoryLevel::day, month, day}};
  plan.events_from = day;
  plan.events_to = at;
  return plan;
}

void StockHistory::record(TimeMs at, std::int64_t position, const std::vector<StockDelta>& deltas) {
  if (deltas.empty()) return;
  if (sum_buckets_) {
    for (HistoryLevel level : kHistoryLevels) {
      const TimeMs start = level_start(level, at);
      for (const auto& d : deltas) {
        auto [it, fresh] = sums_.try_emplace(Bucket{level, start, d.key}, 0);
        if ((it->second += d.change) == 0) sums_.erase(it);
      }
    }
  }
  std::string key = history_event_key(at, position);
  std::string value = encode_event_deltas(deltas);
  ++event_count_;
  event_digest_ += EntryDigest::term(key, value);
  if (keep_events_) events_.emplace_back(std::move(key), std::move(value));
}

std::vector<std::pair<std::string, std::int64_t>> StockHistory::bucket_sums() const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  out.reserve(sums_.size());
  for (const auto& [b, sum] : sums_)
    out.emplace_back(history_bucket_key(b.level, b.start, b.cell), sum);
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t StockHistory::BucketHash::operator()(const Bucket& b) const {
  std::size_t h = std::hash<std::string>{}(b.cell.facility);
  auto mix = [&h](std::uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
  mix(static_cast<std::uint64_t>(b.start));
  mix(static_cast<std::uint64_t>(b.level));
  mix(static_cast<std::uint64_t>(b.cell.category));
  mix(static_cast<std::uint64_t>(b.cell.group));
  mix(static_cast<std::uint64_t>(b.cell.status));
  return h;
}

std::uint64_t StockHistory::bucket_digest_of(std::string_view key, std::int64_t sum) {
  std::string v;
  put_i64(v, sum);
  return EntryDigest::term(key, v);
}

bool BucketDigest::add(TimeMs at, std::string_view deltas) {
  for (std::size_t i = 0; i < kHistoryLevelCount; ++i) {
    const TimeMs start = level_start(kHistoryLevels[i], at);
    if (open_[i] && start != start_[i]) close(i);
    start_[i] = start;
    open_[i] = true;
  }
  return decode_event_deltas(deltas, [&](std::string_view cell, std::int64_t n) {
    for (auto& cells : cells_) {
      auto it = cells.find(cell);
      if (it == cells.end()) {
        cells.emplace(std::string(cell), n);
      } else {
        it->second += n;
      }
    }
  });
}

void BucketDigest::close(std::size_t i) {
  const std::string prefix = static_cast<char>(kHistoryLevels[i]) + time_key(start_[i]) + "|";
  for (const auto& [cell, sum] : cells_[i]) {
    if (sum == 0) continue;
    ++count_;
    digest_ += StockHistory::bucket_digest_of(prefix + cell, sum);
  }
  cells_[i].clear();
  open_[i] = false;
}

void BucketDigest::finish() {
  for (std::size_t i = 0; i < kHistoryLevelCount; ++i) {
    if (open_[i]) close(i);
  }
}

}  // namespace hemoledger
