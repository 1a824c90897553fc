#include "engine/ledger/replay.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "engine/io/on_cores.h"
#include "engine/ledger/metrics.h"
#include "engine/storage/scratch_store.h"
#include "engine/storage/stored_json.h"
#include "events/binary_codec.h"
#include "projections/entry_digest.h"
#include "projections/partition_replay.h"
#include "projections/report_counters.h"

namespace hemoledger {

using nlohmann::json;

namespace {

Error unreadable(std::int32_t p, std::int64_t off, const Error& e) {
  return make_error("corrupt_journal", "Journal entry " + std::to_string(p) + "/" +
                                           std::to_string(off) + " cannot be read: " + e.message);
}

Error diverged(std::int32_t p, std::int64_t off, const Error& e) {
  return make_error("replay_diverged", "Journal entry " + std::to_string(p) + "/" +
                                           std::to_string(off) +
                                           " is rejected on replay: " + e.message);
}

// Applies partition p's journal entries at positions [from, end) to `replay`,
// each read once. Without `until` every entry must be accepted again; with it,
// events after `until` and events the projector then refuses are skipped.
Status replay_range(const Store& store, std::int32_t p, std::int64_t from, std::int64_t end,
                    std::optional<TimeMs> until, PartitionReplay& replay) {
  std::optional<Error> failure;
  Event e;
  auto s = store.scan_journal(p, from, [&](std::int64_t off, std::string_view bytes) {
    if (off >= end) return false;
    if (auto d = decode_binary_into(bytes, e); !d) {
      failure = unreadable(p, off, d.error());
      return false;
    }
    if (until && e.at > *until) return true;
    // A complete replay also rebuilds the stock history (by journal position).
    if (auto a = replay.apply(e, until ? -1 : off); !a) {
      // A complete replay must accept every journaled event; a replay up to an
      // instant may meet an event whose prerequisite happened later.
      if (until) return true;
      failure = diverged(p, off, a.error());
      return false;
    }
    return true;
  });
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

// The whole journal read once: every partition's projections and, when
// batches were recorded, the alert model fed batch by recorded batch
// (Store::scan_batch_ends) with what each batch changed, as the engine fed it.
struct ReplayedJournal {
  std::map<std::int32_t, PartitionReplay> partitions;
  bool alerts_recorded = false;
  ReplayedAlerts alerts;
};

// With `keep_history_events`, each partition's stock history keeps its
// single events (to write them), not only their digest.
Result<ReplayedJournal> replay_journal(const Store& store, const ReferenceData& ref,
                                       const Rules& rules, const SupplyConfig& supply,
                                       bool keep_history_events = false,
                                       const ReplayHolding& holding = {},
                                       ScratchStore* scratch = nullptr) {
  ReplayedJournal out;
  constexpr auto kAll = std::numeric_limits<std::int64_t>::max();
  std::map<std::int32_t, std::int64_t> position;
  auto replay_of = [&](std::int32_t p) -> PartitionReplay& {
    auto it = out.partitions.find(p);
    if (it == out.partitions.end()) {
      it = out.partitions.try_emplace(p, ref, rules, /*feeds_alerts=*/true, keep_history_events)
               .first;
      it->second.state().donations =
          ReplayedDonations(holding.decoded, scratch ? scratch->donations(p) : nullptr);
    }
    return it->second;
  };
  for (auto p : store.partitions()) replay_of(p);
  // Journal ranges of several partitions, replayed side by side.
  struct Range {
    std::int32_t partition;
    std::int64_t from, end;
    PartitionReplay* replay;
  };
  auto replay_side_by_side = [&store](const std::vector<Range>& ranges) {
    return for_each_on_cores(ranges.size(), [&](std::size_t i) {
      const Range& r = ranges[i];
      return replay_range(store, r.partition, r.from, r.end, std::nullopt, *r.replay);
    });
  };
  AlertModel model(ref, supply);
  std::optional<Error> failure;
  auto s = store.scan_batch_ends(
      [&](std::uint64_t batch, const std::map<std::int32_t, std::int64_t>& ends) {
        out.alerts_recorded = true;
        // The batch's partitions replay side by side (ranges read here: the
        // threads share no map); the model is fed in partition order
        // afterwards, as the engine fed it.
        std::vector<Range> ranges;
        for (const auto& [p, end] : ends) ranges.push_back({p, position[p], end, &replay_of(p)});
        if (auto r = replay_side_by_side(ranges); !r) {
          failure = r.error();
          return false;
        }
        TimeMs clock = 0;
        for (const Range& r : ranges) {
          position[r.partition] = r.end;
          clock = std::max(clock, r.replay->feed(model));
        }
        model.advance_clock(clock);
        for (auto& c : model.evaluate()) out.alerts.changes.push_back(std::move(c));
        out.alerts.state.batch = batch;
        return true;
      });
  if (!s) return s.error();
  if (failure) return *failure;
  // Entries after the last recorded batch (or all, if none was recorded)
  // change the projections only.
  std::vector<Range> rest;
  for (auto& [p, replay] : out.partitions) rest.push_back({p, position[p], kAll, &replay});
  if (auto r = replay_side_by_side(rest); !r) return r.error();
  for (auto& [p, replay] : out.partitions)
    out.alerts.refused_follow_ups += replay.refused_follow_ups();
  out.alerts.open = model.open();
  out.alerts.state.seq = model.seq();
  out.alerts.state.clock = model.clock();
  return out;
}

}  // namespace

Result<ReplayedPartition> replay_partition(const Store& store, const ReferenceData& ref,
                                           const Rules& rules, std::int32_t p,
                                           std::optional<TimeMs> until) {
  PartitionReplay replay(ref, rules);
  if (auto s = replay_range(store, p, 0, std::numeric_limits<std::int64_t>::max(), until, replay);
      !s) {
    return s.error();
  }
  return std::move(replay.state());
}

Result<StockTable> stock_at(const Store& store, const ReferenceData& ref, const Rules& rules,
                            TimeMs at) {
  StockTable total;
  for (auto p : store.partitions()) {
    auto replayed = replay_partition(store, ref, rules, p, at);
    if (!replayed) return replayed.error();
    total.add(replayed->stock);
  }
  return total;
}

Result<ReplayedAlerts> replay_alerts(const Store& store, const ReferenceData& ref,
                                     const Rules& rules, const SupplyConfig& supply) {
  auto replayed = replay_journal(store, ref, rules, supply);
  if (!replayed) return replayed.error();
  return std::move(replayed->alerts);
}

namespace {

// Compares the stored alerts with their replay; with `write`, replaces them.
Status rebuild_alerts(Store& store, const ReferenceData& ref, const ReplayedAlerts& replayed,
                      bool write, const std::function<void(std::string)>& note) {
  std::vector<std::string> stored_changes;
  auto s = store.scan_alert_changes(1, [&](std::uint64_t, std::string_view v) {
    stored_changes.emplace_back(v);
    return true;
  });
  if (!s) return s;
  std::vector<std::string> replay_changes;
  for (const auto& c : replayed.changes) replay_changes.push_back(stored_json(change_json(c, ref)));
  if (stored_changes != replay_changes) {
    note("alert changes differ: " + std::to_string(stored_changes.size()) + " stored, " +
         std::to_string(replay_changes.size()) + " replayed");
  }
  std::map<std::string, std::string> stored_rows, replay_rows;
  auto rs = store.scan_alert_reports(0, 999999, [&](std::string_view k, std::string_view v) {
    stored_rows.emplace(k, v);
    return true;
  });
  if (!rs) return rs;
  for (const auto& c : replayed.changes) {
    for (auto& [k, row] : alert_report_rows(c)) replay_rows.emplace(std::move(k), std::move(row));
  }
  if (stored_rows != replay_rows) {
    note("alert report rows differ: " + std::to_string(stored_rows.size()) + " stored, " +
         std::to_string(replay_rows.size()) + " replayed");
  }
  if (replayed.refused_follow_ups > 0) {
    note(std::to_string(replayed.refused_follow_ups) +
         " alert follow-up event(s) are refused on replay");
  }
  auto open = store.open_alerts();
  if (!open) return open.error();
  std::map<std::string, std::string> replay_open;
  for (const auto& [key, a] : replayed.open) replay_open[key] = stored_json(alert_json(a, ref));
  if (*open != replay_open) note("open alerts differ from their replay");
  if (!write) return {};
  Store::Batch b;
  for (const auto& [key, text] : *open) b.delete_open_alert(key);
  for (const auto& [key, text] : replay_open) b.put_open_alert(key, text);
  for (const auto& c : replayed.changes)
    b.put_alert_change(c.seq, stored_json(change_json(c, ref)));
  b.clear_alert_reports();
  for (const auto& [k, row] : replay_rows) b.put_alert_report(k, row);
  b.put_alert_state(replayed.state);
  return store.commit(b);
}

}  // namespace

namespace {

// Where partition p's stored indexes first differ from the replayed entries,
// by kind and key, for people; empty if they do not. Holds both sides of the
// partition, so compare_indexes() calls it only once the digests differ.
Result<std::string> first_index_difference(const Store& store, std::int32_t p,
                                           const PartitionState& replayed) {
  std::map<std::string, std::string> replay, stored;
  std::string twice;  // a key replayed twice: the store can hold it once only
  auto add = [&](std::vector<IndexEntry> entries) {
    for (auto& entry : entries) {
      std::string k = std::string(1, entry.kind) + "|" + entry.key;
      if (!replay.emplace(k, std::move(entry.value)).second && twice.empty()) twice = k;
    }
  };
  replayed.donations.for_each(
      [&](const std::string&, const Donation& d, std::string_view) { add(index_entries(d)); });
  for (const auto& [k, lot] : replayed.lots) add(reagent_index_entries(lot));
  if (!twice.empty()) return "entry " + twice + " is replayed twice";
  auto is = store.scan_index_in(p, [&](char kind, std::string_view key, std::string_view value) {
    stored.emplace(std::string(1, kind) + "|" + std::string(key), value);
    return true;
  });
  if (!is) return is.error();
  auto r = replay.begin();
  auto s = stored.begin();
  for (; r != replay.end() && s != stored.end(); ++r, ++s) {
    if (r->first < s->first) return "entry " + r->first + " is replayed but not stored";
    if (s->first < r->first) return "entry " + s->first + " is stored but not replayed";
    if (r->second != s->second) {
      return "entry " + s->first + " is stored as \"" + s->second + "\", replayed as \"" +
             r->second + "\"";
    }
  }
  if (r != replay.end()) return "entry " + r->first + " is replayed but not stored";
  if (s != stored.end()) return "entry " + s->first + " is stored but not replayed";
  return std::string();
}

// Partition p's stored indexes against the replayed entries (every donation's
// and reagent lot's), by count and digest (projections/entry_digest.h): the
// replayed donations keep their digest beside them, so this holds nothing per
// entry and decodes no donation. Only when they differ is the first
// difference looked for, in a second pass.
Status compare_indexes(const Store& store, std::int32_t p, const PartitionState& replayed,
                       const std::function<void(std::string)>& note) {
  EntryDigest replay = replayed.donations.index_digest();
  for (const auto& [k, lot] : replayed.lots) {
    for (const auto& e : reagent_index_entries(lot)) replay.add(e.kind, e.key, e.value);
  }
  EntryDigest stored;
  auto is = store.scan_index_in(p, [&](char kind, std::string_view key, std::string_view value) {
    stored.add(kind, key, value);
    return true;
  });
  if (!is) return is;
  if (stored == replay) return {};
  auto first = first_index_difference(store, p, replayed);
  if (!first) return first.error();
  note("partition " + std::to_string(p) + " indexes differ (" + std::to_string(stored.count) +
       " entries stored, " + std::to_string(replay.count) + " replayed" +
       (first->empty() ? "" : "; first: " + *first) + ")");
  return {};
}

// The stored stock history of partition p (projections/stock_history.h)
// against its replay, in memory independent of the history's length: the
// single events by count and an order-independent digest (the replay keeps
// only those), and every stored bucket sum against the sums the stored
// single events give (BucketDigest, streamed in time order), by count and
// digest; together they say the buckets are those of the replayed events.
// A journal written before the history existed has no marker: noted, and
// `rebuild` writes it.
Status compare_history(const Store& store, std::int32_t p, const StockHistory& replayed,
                       const std::function<void(std::string)>& note) {
  const std::string where = "partition " + std::to_string(p) + " stock history";
  auto since = store.history_since(p);
  if (!since) return since.error();
  if (!*since || **since != 0) {
    note(where + " is not complete (written before the history existed: run rebuild)");
    return {};
  }
  std::uint64_t count = 0, digest = 0;
  BucketDigest from_events;
  bool damaged = false;
  auto es = store.scan_history_events(
      p, std::numeric_limits<TimeMs>::min(), std::numeric_limits<TimeMs>::max(),
      [&](std::string_view k, std::string_view v) {
        ++count;
        digest += EntryDigest::term(k, v);
        TimeMs at = 0;
        damaged = !parse_time_key(k.substr(0, 16), at) || !from_events.add(at, v);
        return !damaged;
      });
  if (!es) return es;
  if (damaged) return make_error("corrupt_state", where + ": an event entry cannot be read.");
  from_events.finish();
  if (count != replayed.event_count() || digest != replayed.event_digest()) {
    note(where + " events differ from their replay (" + std::to_string(count) + " stored, " +
         std::to_string(replayed.event_count()) + " replayed)");
  }
  std::uint64_t buckets = 0, bucket_digest = 0;
  auto bs = store.scan_all_history_buckets(p, [&](std::string_view k, std::int64_t sum) {
    ++buckets;
    bucket_digest += StockHistory::bucket_digest_of(k, sum);
    return true;
  });
  if (!bs) return bs;
  if (buckets != from_events.count() || bucket_digest != from_events.digest()) {
    note(where + " sums differ from their events (" + std::to_string(buckets) + " stored, " +
         std::to_string(from_events.count()) + " from the events)");
  }
  return {};
}

// The live projections of partition p against its replay; each difference noted.
Status compare_partition(const Store& store, std::int32_t p, const PartitionState& replayed,
                         const std::function<void(std::string)>& note) {
  // Both sides in DIN order, side by side (every replayed donation encoded).
  const auto& donations = replayed.donations;
  auto replay = donations.cursor();
  auto not_live = [&] {
    note("donation " + std::string(replay.din()) + " is in the journal but not live");
    replay.next();
  };
  std::size_t live_count = 0;
  auto cs = store.scan_donations(p, [&](std::string_view din, std::string_view bytes) {
    ++live_count;
    while (replay.valid() && replay.din() < din) not_live();
    if (!replay.valid() || replay.din() != din) {
      note("donation " + std::string(din) + " is live but not in the journal");
      return true;
    }
    if (replay.bytes() != bytes) note("donation " + std::string(din) + " differs from its replay");
    replay.next();
    return true;
  });
  if (!cs) return cs.error();
  while (replay.valid()) not_live();
  if (live_count != donations.size()) {
    note("partition " + std::to_string(p) + " has " + std::to_string(live_count) +
         " live donations, the journal " + std::to_string(donations.size()));
  }
  std::size_t live_donors = 0;
  auto ds = store.scan_donors(p, [&](std::string_view donor, std::string_view bytes) {
    ++live_donors;
    auto it = replayed.donors.find(std::string(donor));
    if (it == replayed.donors.end() || encode_donor(it->second) != bytes) {
      note("donor " + std::string(donor) + " of partition " + std::to_string(p) +
           " differs from its replay");
    }
    return true;
  });
  if (!ds) return ds.error();
  if (live_donors != replayed.donors.size()) {
    note("partition " + std::to_string(p) + " has " + std::to_string(live_donors) +
         " live donor records, the journal " + std::to_string(replayed.donors.size()));
  }
  auto live_lots = store.reagent_lots(p);
  if (!live_lots) return live_lots.error();
  std::map<std::string, ReagentLot> live_lot_map;
  for (auto& l : *live_lots) live_lot_map[reagent_lot_key(l.reagent, l.lot)] = std::move(l);
  if (live_lot_map != replayed.lots) {
    note("partition " + std::to_string(p) + " reagent lots differ");
  }
  auto live_usage = store.reagent_usage_window(0, std::numeric_limits<std::int64_t>::max(), p);
  if (!live_usage) return live_usage.error();
  if (*live_usage != replayed.usage)
    note("partition " + std::to_string(p) + " reagent usage differs");
  if (auto i = compare_indexes(store, p, replayed, note); !i) return i;
  auto live_demand = store.demand_window(0, std::numeric_limits<std::int64_t>::max(), p);
  if (!live_demand) return live_demand.error();
  if (*live_demand != replayed.demand) note("partition " + std::to_string(p) + " demand differs");
  auto live_stock = store.stock(p);
  if (!live_stock) return live_stock.error();
  if (!(*live_stock == replayed.stock)) note("partition " + std::to_string(p) + " stock differs");
  ReportCounts live_report;
  auto rs = store.scan_report(p, 0, 999999, [&](std::string_view k, std::int64_t n) {
    live_report.emplace(std::string(k), n);
    return true;
  });
  if (!rs) return rs;
  if (live_report != replayed.report) {
    note("partition " + std::to_string(p) + " report counters differ");
  }
  auto live_day = store.report_day(p);
  if (!live_day) return live_day.error();
  if (*live_day != replayed.report_day) {
    note("partition " + std::to_string(p) + " report day differs");
  }
  return compare_history(store, p, replayed.history, note);
}

// Replaces partition p's projections with its replay, in one commit.
Status write_partition(Store& store, std::int32_t p, const PartitionState& replayed) {
  Store::Batch b;
  b.clear_projections(p);
  replayed.donations.for_each(
      [&](const std::string& din, const Donation& d, std::string_view bytes) {
        b.put_donation(p, din, bytes);
        for (const auto& entry : index_entries(d)) b.put_index(p, entry);
      });
  for (const auto& [donor, share] : replayed.donors) b.put_donor(p, donor, encode_donor(share));
  for (const auto& [k, n] : replayed.stock.cells()) b.put_stock(p, k, n);
  for (const auto& [k, n] : replayed.demand) b.put_demand(p, k, n);
  for (const auto& [k, lot] : replayed.lots) {
    b.put_reagent_lot(p, lot);
    for (const auto& entry : reagent_index_entries(lot)) b.put_index(p, entry);
  }
  for (const auto& [k, n] : replayed.usage) b.put_reagent_usage(p, k, n);
  for (const auto& [k, n] : replayed.report) b.put_report(p, k, n);
  if (replayed.report_day != 0) b.put_report_day(p, replayed.report_day);
  for (const auto& [k, sum] : replayed.history.bucket_sums()) b.put_history_bucket(p, k, sum);
  for (const auto& [k, deltas] : replayed.history.events()) b.put_history_event(p, k, deltas);
  b.put_history_since(p, 0);
  return store.commit(b);
}

}  // namespace

Result<RebuildReport> rebuild(Store& store, const ReferenceData& ref, const Rules& rules,
                              bool write, const SupplyConfig& supply,
                              const ReplayHolding& holding) {
  const auto t0 = std::chrono::steady_clock::now();
  RebuildReport report;
  auto note = [&](std::string what) {
    report.equal = false;
    if (report.differences.size() < 10) report.differences.push_back(std::move(what));
  };
  std::unique_ptr<ScratchStore> scratch;  // outlives the replay, which keeps donations in it
  if (!holding.scratch_dir.empty()) {
    auto opened = ScratchStore::open(holding.scratch_dir);
    if (!opened) return opened.error();
    scratch = std::move(*opened);
  }
  auto journal = replay_journal(store, ref, rules, supply, /*keep_history_events=*/write, holding,
                                scratch.get());
  if (!journal) return journal.error();
  if (scratch) {
    if (auto s = scratch->status(); !s) return s.error();
  }
  // Each partition is compared (and written) on its own, side by side; what
  // each finds is reported in partition order.
  struct Found {
    std::uint64_t events = 0, donations = 0, lots = 0;
    std::vector<std::string> differences;
  };
  std::vector<std::pair<const std::int32_t, PartitionReplay>*> parts;
  for (auto& entry : journal->partitions) parts.push_back(&entry);
  std::vector<Found> found(parts.size());
  auto compared = for_each_on_cores(parts.size(), [&](std::size_t i) -> Status {
    const std::int32_t p = parts[i]->first;
    PartitionState& replayed = parts[i]->second.state();
    Found& f = found[i];
    auto note = [&f](std::string what) {
      if (f.differences.size() < 10) f.differences.push_back(std::move(what));
    };
    f.events = replayed.events;
    f.donations = replayed.donations.size();
    f.lots = replayed.lots.size();

    replayed.donations.encode_all();  // compared in DIN order with the stored ones
    if (auto c = compare_partition(store, p, replayed, note); !c) return c;
    if (write) {
      if (auto w = write_partition(store, p, replayed); !w) return w;
    }
    replayed = PartitionState{};  // this partition is done: free it before the next
    return {};
  });
  if (!compared) return compared.error();
  if (scratch) {
    if (auto s = scratch->status(); !s) return s.error();
  }
  for (auto& f : found) {
    report.events += f.events;
    report.donations += f.donations;
    report.reagent_lots += f.lots;
    for (auto& d : f.differences) note(std::move(d));
  }
  if (journal->alerts_recorded) {
    if (auto a = rebuild_alerts(store, ref, journal->alerts, write, note); !a) return a.error();
  }
  report.seconds = static_cast<double>(micros_since(t0)) / 1e6;
  return report;
}

}  // namespace hemoledger
