// StockHistory: the stock changes of a partition's events aggregated by the
// events' own time (`at`), so that the stock at any past instant is a sum of a
// few stored aggregates instead of a replay of the journal
// (GET /api/stock?at=, docs/storage.md "Stock at a past instant").
//
// Every event that changes stock adds its deltas (the StockDelta list the
// projector returned when it applied the event) to three buckets, one per
// level, each keyed by the start of the UTC year, month and day that contain
// the event's `at`, and keeps them once more on their own, keyed by (`at`,
// journal position). The stock at instant T is then
//
//   the year buckets before T's year
//   + the month buckets of T's year before T's month
//   + the day buckets of T's month before T's day
//   + the single events of T's day with at <= T                 (history_plan)
//
// which is exact whatever order the events were journaled in: a late event
// (an earlier `at` journaled after later ones) lands in the buckets of its own
// time. Each event's change is the one the engine recorded when it applied it,
// so the sum equals a replay of the events at or before T whenever each
// donation's own events were journaled in the order of their times (events of
// different donations may arrive in any order; docs/storage.md says what a
// donation whose own events arrive out of order gives).
//
// There is no hour level: its sums were most of the history's writes (a
// batch touches every hour its events span), and all they spared a query was
// reading one day's single events (docs/storage.md, "Why no hour level").
//
// Keys are text (a partition prefix is added by the Store):
//   bucket   "<level><start>|<facility>|<category>|<group>|<status>" -> sum
//   event    "<at>|<position:020>" -> the event's deltas (encode_event_deltas)
// where <start> and <at> are time_key(): 16 hex digits that sort as the
// instants do (negative ones included).
//
// Pure: values only, no storage, no clock; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/time.h"
#include "projections/stock.h"

namespace hemoledger {

enum class HistoryLevel : char { year = 'Y', month = 'M', day = 'D' };
inline constexpr HistoryLevel kHistoryLevels[] = {HistoryLevel::year, HistoryLevel::month,
                                                  HistoryLevel::day};
inline constexpr std::size_t kHistoryLevelCount = std::size(kHistoryLevels);

// The start of the UTC year, month or day that contains t.
TimeMs level_start(HistoryLevel level, TimeMs t);

// 16 lowercase hex digits of t with its sign bit flipped: fixed width, and
// ordered as the instants are. parse_time_key() is its inverse.
std::string time_key(TimeMs t);
bool parse_time_key(std::string_view text, TimeMs& out);

// A bucket key "<level><time_key(start)>|<stock key>", and the stock key's
// text in one (what follows the first '|').
std::string history_bucket_key(HistoryLevel level, TimeMs start, const StockKey& cell);
std::string_view bucket_cell(std::string_view bucket_key);

// A single event's key "<time_key(at)>|<position:020>" and value.
std::string history_event_key(TimeMs at, std::int64_t position);
std::string encode_event_deltas(const std::vector<StockDelta>& deltas);
// Calls add(stock key text, change) for each delta; false when damaged.
template <typename Add>
bool decode_event_deltas(std::string_view value, Add&& add);

// What the stock at `at` sums: for each level, the buckets whose start is in
// [from, to); then the single events with at in [events_from, events_to].
struct HistoryPlan {
  struct Range {
    HistoryLevel level;
    TimeMs from, to;  // bucket starts, to excluded
  };
  std::vector<Range> ranges;
  TimeMs events_from = 0, events_to = 0;  // both included
};
HistoryPlan history_plan(TimeMs at);

// The history a run of events makes: with `sum_buckets`, the bucket sums
// (zero sums erased; the engine's batch writer adds them to the stored ones);
// always an order-independent digest of the single events (and, with
// `keep_events`, the entries themselves), so that a replay can be compared
// with the stored history without holding its buckets (rebuild).
class StockHistory {
 public:
  StockHistory() = default;
  StockHistory(bool sum_buckets, bool keep_events)
      : sum_buckets_(sum_buckets), keep_events_(keep_events) {}

  void record(TimeMs at, std::int64_t position, const std::vector<StockDelta>& deltas);

  // The non-zero bucket sums as (bucket key, sum), in key order.
  std::vector<std::pair<std::string, std::int64_t>> bucket_sums() const;
  std::uint64_t event_count() const { return event_count_; }
  std::uint64_t event_digest() const { return event_digest_; }
  // (key, value) of every event recorded, when kept; in record order.
  const std::vector<std::pair<std::string, std::string>>& events() const { return events_; }

  // The digest's term (EntryDigest::term, projections/entry_digest.h) for a
  // stored bucket, its sum as 8 little-endian bytes; an event's is
  // EntryDigest::term(key, value). A digest is their sum (mod 2^64).
  static std::uint64_t bucket_digest_of(std::string_view key, std::int64_t sum);

 private:
  struct Bucket {
    HistoryLevel level;
    TimeMs start;
    StockKey cell;
    bool operator==(const Bucket&) const = default;
  };
  struct BucketHash {
    std::size_t operator()(const Bucket& b) const;
  };
  bool sum_buckets_ = true, keep_events_ = false;
  std::unordered_map<Bucket, std::int64_t, BucketHash> sums_;
  std::uint64_t event_count_ = 0, event_digest_ = 0;
  std::vector<std::pair<std::string, std::string>> events_;
};

// The bucket sums that single events give, computed while they are visited
// in time order (as Store::scan_history_events visits them), holding only
// the current bucket of each level: their count and digest
// (StockHistory::bucket_digest_of), to compare with the stored buckets.
class BucketDigest {
 public:
  // False when `deltas` is damaged.
  bool add(TimeMs at, std::string_view deltas);
  // Counts what is still open; call once after the last add().
  void finish();
  std::uint64_t count() const { return count_; }
  std::uint64_t digest() const { return digest_; }

 private:
  void close(std::size_t level);
  TimeMs start_[kHistoryLevelCount] = {};
  bool open_[kHistoryLevelCount] = {};
  std::map<std::string, std::int64_t, std::less<>> cells_[kHistoryLevelCount];
  std::uint64_t count_ = 0, digest_ = 0;
};

// ---- implementation of the template ----

namespace stock_history_detail {
inline std::int64_t read_i64(std::string_view s) {
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i)
    u |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  return static_cast<std::int64_t>(u);
}
}  // namespace stock_history_detail

// Value layout: per delta, the change (8 bytes, little-endian), the stock
// key's length (2 bytes, little-endian) and the stock key's text.
template <typename Add>
bool decode_event_deltas(std::string_view value, Add&& add) {
  while (!value.empty()) {
    if (value.size() < 10) return false;
    const std::int64_t change = stock_history_detail::read_i64(value.substr(0, 8));
    const std::size_t n = static_cast<unsigned char>(value[8]) |
                          (static_cast<std::size_t>(static_cast<unsigned char>(value[9])) << 8);
    if (value.size() < 10 + n) return false;
    add(value.substr(10, n), change);
    value.remove_prefix(10 + n);
  }
  return true;
}

}  // namespace hemoledger
