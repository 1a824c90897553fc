#include "engine/ledger/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <functional>
#include <limits>
#include <set>
#include <thread>
#include <unordered_map>

#include "engine/io/clock.h"
#include "engine/scaleout/national_alerts.h"
#include "engine/scaleout/partials.h"
#include "events/binary_codec.h"
#include "projections/partition_replay.h"

namespace hemoledger {

using nlohmann::json;

namespace {

std::uint64_t micros_since(std::chrono::steady_clock::time_point t0) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count());
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The outcome of an applied event, {"offset":..,"partition":..,"status":"applied"}:
// the text dump() gives the same object (keys in order), without building it.
std::string applied_outcome(std::int32_t partition, std::int64_t pos) {
  return "{\"offset\":" + std::to_string(pos) + ",\"partition\":" + std::to_string(partition) +
         ",\"status\":\"applied\"}";
}

struct PendingRejection {
  std::int32_t partition;
  std::int64_t offset;
  std::string key;
  std::string json;
};

}  // namespace

Engine::Engine(EngineOptions options, const ReferenceData& ref, Producer* producer,
               std::unique_ptr<Store> store)
    : options_(std::move(options)), ref_(ref), producer_(producer), store_(std::move(store)) {
  if (const char* fp = std::getenv("HEMOLEDGER_FAILPOINT")) failpoint_spec_ = fp;
  if (scale_out()) view_ = std::make_unique<PartialsView>(options_.kafka);
}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::open(EngineOptions options, const ReferenceData& ref,
                                             Producer* producer) {
  auto store = Store::open(options.data_dir + "/db");
  if (!store) return store.error();
  std::unique_ptr<Engine> e(new Engine(std::move(options), ref, producer, std::move(*store)));
  if (auto s = e->load(); !s) return s.error();
  return e;
}

Status Engine::load() {
  for (auto p : store_->partitions()) {
    auto t = store_->stock(p);
    if (!t) return t.error();
    total_stock_.add(*t);
    partition_stock_[p] = std::move(*t);
    auto f = store_->forwarded(p);
    if (!f) return f.error();
    forward_next_[p] = *f;
  }
  auto cursor = store_->alert_cursor("kafka");
  if (!cursor) return cursor.error();
  alerts_forwarded_ = std::max<std::uint64_t>(*cursor, 1);
  return load_alert_model();
}

// The alert model from what is committed: its own state, then the inputs it
// keeps (available stock, demand in the window, the 'a' and 'k' indexes).
namespace {

Result<std::map<std::string, Alert>> stored_open_alerts(const Store& store) {
  auto open = store.open_alerts();
  if (!open) return open.error();
  std::map<std::string, Alert> alerts;
  for (const auto& [key, text] : *open) {
    auto a = alert_from_json(json::parse(text, nullptr, false));
    if (!a) return a.error();
    alerts.emplace(key, std::move(*a));
  }
  return alerts;
}

}  // namespace

Status Engine::load_alert_model() {
  auto st = store_->alert_state();
  if (!st) return st.error();
  auto stored = stored_open_alerts(*store_);
  if (!stored) return stored.error();
  std::map<std::string, Alert> alerts = std::move(*stored);
  alert_state_ = *st;
  committed_alert_seq_ = st->seq;
  alerts_ = std::make_unique<AlertModel>(ref_, options_.supply);
  alerts_->restore(std::move(alerts), st->seq, st->clock);
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, n] : total_stock_.cells()) alerts_->on_stock(k, n);
  }
  auto demand = store_->demand_window(alerts_->first_needed_day(),
                                      std::numeric_limits<std::int64_t>::max());
  if (!demand) return demand.error();
  for (const auto& [k, n] : *demand) alerts_->on_demand(k, n);
  for (char kind : {'a', 'k'}) {
    auto s = store_->scan_index(kind, [&](const IndexEntry& e) { alerts_->on_index(e, true); });
    if (!s) return s;
  }
  auto lots = store_->reagent_lots();
  if (!lots) return lots.error();
  for (const auto& lot : *lots) alerts_->set_reagent_lot(lot);
  auto usage = store_->reagent_usage_window(alerts_->first_needed_day(),
                                            std::numeric_limits<std::int64_t>::max());
  if (!usage) return usage.error();
  for (const auto& [k, n] : *usage) alerts_->on_reagent_usage(k, n);
  return {};
}

Result<std::int64_t> Engine::base_of(std::int32_t p) {
  {
    std::lock_guard lock(mu_);
    auto it = base_.find(p);
    if (it != base_.end()) return it->second;
  }
  // A partition this cluster has not given us before: its offsets start
  // after everything stored, so that nothing is overwritten.
  auto end = store_->log_end(p);
  if (!end) return end.error();
  std::lock_guard lock(mu_);
  base_[p] = *end;
  return *end;
}

std::uint64_t Engine::alert_seq() const { return committed_alert_seq_.load(); }

// Testing hook: HEMOLEDGER_FAILPOINT=before_commit:N or after_commit:N kills
// the process with SIGKILL at the N-th batch, to prove crash recovery.
void Engine::failpoint(std::string_view where) {
  if (failpoint_spec_.empty()) return;
  const auto colon = failpoint_spec_.find(':');
  if (failpoint_spec_.substr(0, colon) != where) return;
  const auto n = std::strtoull(failpoint_spec_.c_str() + colon + 1, nullptr, 10);
  if (failpoint_batch_ == n) {
    spdlog::warn("failpoint {} reached at batch {}: killing the process", where, n);
    std::raise(SIGKILL);
  }
}

Status Engine::apply_records(const std::vector<Record>& records) {
  const auto t0 = std::chrono::steady_clock::now();
  ++failpoint_batch_;
  Store::Batch batch;
  // Donations changed in this batch, by (partition, din).
  std::map<std::pair<std::int32_t, std::string>, Donation> touched;
  // Their index entries before the batch, to update the indexes by difference.
  std::map<std::pair<std::int32_t, std::string>, std::vector<IndexEntry>> index_before;
  std::map<std::int32_t, std::set<std::string>> applied_ids;
  std::map<std::int32_t, StockTable> stock_change;
  std::map<std::pair<std::int32_t, DemandKey>, std::int64_t> demand;  // new absolute counts
  // Reagent lots changed in this batch, by (partition, lot key), and usage.
  std::map<std::pair<std::int32_t, std::string>, ReagentLot> touched_lots;
  std::map<std::pair<std::int32_t, std::string>, std::vector<IndexEntry>> lot_index_before;
  std::map<std::pair<std::int32_t, ReagentUsageKey>, std::int64_t> usage;  // absolute counts
  std::vector<ReagentUsage> usage_deltas;  // for the alert model
  std::map<std::int32_t, std::int64_t> next;
  {
    std::lock_guard lock(mu_);
    next = next_;
  }
  std::vector<PendingRejection> rejections;
  std::uint64_t n_applied = 0, n_rejected = 0, n_dup = 0;
  std::vector<DemandDelta> demand_deltas;  // for the alert model
  std::vector<PendingLookback> new_lookbacks;  // positive screens to look back from
  std::map<std::int32_t, std::int64_t> batch_ends;  // journal positions reached
  TimeMs clock = alerts_->clock();
  // Every record decoded up front, so that the outcomes of their event ids
  // (the idempotence check below) are read in one MultiGet, not one Get each.
  std::vector<std::optional<Result<Event>>> predecoded(records.size());
  std::vector<std::optional<std::string>> prior_outcomes(records.size());
  std::vector<bool> prior_read(records.size(), false);
  {
    std::vector<std::pair<std::int32_t, std::string_view>> ids;
    std::vector<std::size_t> of;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      auto it = next.find(r.partition);
      if (it != next.end() && r.offset < it->second) continue;
      predecoded[i] = decode_event(r.value);
      if (!*predecoded[i]) continue;
      ids.emplace_back(r.partition, (*predecoded[i])->id);
      of.push_back(i);
    }
    auto found = store_->outcomes(ids);
    if (!found) return found.error();
    for (std::size_t k = 0; k < of.size(); ++k) {
      prior_outcomes[of[k]] = std::move((*found)[k]);
      prior_read[of[k]] = true;
    }
  }

  for (const Record& r : records) {
    const auto index = static_cast<std::size_t>(&r - records.data());
    auto it = next.find(r.partition);
    if (it != next.end() && r.offset < it->second) continue;  // already committed
    if (it != next.end() && r.offset > it->second) {
      spdlog::warn("partition {}: offsets {}..{} were not delivered (retention or a new cluster)",
                   r.partition, it->second, r.offset - 1);
    }
    next[r.partition] = r.offset + 1;
    auto base = base_of(r.partition);
    if (!base) return base.error();
    const std::int64_t pos = *base + r.offset;  // journal position
    batch_ends[r.partition] = pos + 1;

    auto reject = [&](const Error& err, const Event* e) {
      json j = {{"partition", r.partition}, {"offset", pos}, {"code", err.code},
                {"message", err.message}};
      if (e) {
        j["event_id"] = e->id;
        j["type"] = std::string(to_string(e->type));
        if (!e->din.empty()) j["din"] = e->din;
        if (!e->product.empty()) j["product"] = e->product;
        if (!e->reagent.empty()) {
          j["reagent"] = e->reagent;
          j["lot"] = e->lot;
        }
        j["facility"] = e->facility;
      }
      if (r.timestamp != 0) j["recorded_at"] = format_rfc3339(r.timestamp);
      j["raw"] = r.value.size() <= 4096 ? r.value : r.value.substr(0, 4096);
      const std::string text = dump(j);
      batch.put_rejection(r.partition, pos, text);
      if (e && err.code != kDuplicateEvent) {
        batch.put_outcome(r.partition, e->id,
                          dump({{"status", "rejected"}, {"partition", r.partition},
                                {"offset", pos}, {"code", err.code},
                                {"message", err.message}}));
      }
      rejections.push_back({r.partition, pos, r.key, text});
      if (err.code == kDuplicateEvent) ++n_dup;
      else ++n_rejected;
    };

    auto decoded =
        predecoded[index] ? std::move(*predecoded[index]) : decode_event(r.value);
    if (!decoded) {
      reject(decoded.error(), nullptr);
      continue;
    }
    Event& e = *decoded;
    if (e.recorded_at == 0) e.recorded_at = r.timestamp;
    // Dated more than a day after the broker received it: a device's clock is
    // wrong (the broker's timestamp, not a field the client can set). Not
    // re-checked on replay: the journal holds only events that passed.
    if (r.timestamp != 0) {
      if (auto s = check_plausible_time(e, r.timestamp); !s) {
        reject(s.error(), &e);
        continue;
      }
    }
    if (r.key != event_key(e)) {
      reject(make_error(r.key.empty() ? "missing_key" : "key_mismatch",
                        is_reagent_event(e.type)
                            ? "The Kafka message key must be " + event_key(e) +
                                  " so that a reagent lot's events stay in order."
                            : "The Kafka message key must be the DIN (" + e.din +
                                  ") so that a donation's events stay in order."),
             &e);
      continue;
    }
    // Idempotence: an id already applied is ignored (rejected ids may retry).
    bool duplicate = applied_ids[r.partition].count(e.id) > 0;
    if (!duplicate) {
      auto prior = prior_read[index] ? Result<std::optional<std::string>>(prior_outcomes[index])
                                     : store_->outcome(r.partition, e.id);
      if (!prior) return prior.error();
      duplicate = prior->has_value() && json::parse(**prior, nullptr, false).value("status", "") ==
                                            "applied";
    }
    if (duplicate) {
      reject(make_error(kDuplicateEvent,
                        "Event " + e.id + " was already applied; the repeat changes nothing."),
             &e);
      continue;
    }
    auto record_applied = [&] {
      clock = std::max({clock, e.at, e.recorded_at});
      applied_ids[r.partition].insert(e.id);
      batch.put_journal(r.partition, pos, encode_binary(e));
      batch.put_outcome(r.partition, e.id, applied_outcome(r.partition, pos));
      ++n_applied;
    };
    if (e.type == EventType::clock_ticked) {  // time passes; nothing else changes
      // A tick may not run ahead of Kafka's own timestamp: the clock of every
      // alert would jump with it.
      if (e.at > e.recorded_at + kMinute) {
        reject(make_error("implausible_tick",
                          "A clock tick dated after the time Kafka received it is refused."),
               &e);
        continue;
      }
      record_applied();
      continue;
    }
    if (is_reagent_event(e.type)) {
      const auto lkey = std::make_pair(r.partition, reagent_lot_key(e.reagent, e.lot));
      auto lot_it = touched_lots.find(lkey);
      std::optional<ReagentLot> stored_lot;
      if (lot_it == touched_lots.end()) {
        auto l = store_->reagent_lot(r.partition, lkey.second);
        if (!l) return l.error();
        stored_lot = std::move(*l);
        lot_index_before[lkey] =
            stored_lot ? reagent_index_entries(*stored_lot) : std::vector<IndexEntry>{};
      }
      const ReagentLot* lot_before =
          lot_it != touched_lots.end() ? &lot_it->second : (stored_lot ? &*stored_lot : nullptr);
      auto lot_applied = apply_reagent_event(ref_, lot_before, e);
      if (!lot_applied) {
        reject(lot_applied.error(), &e);
        continue;
      }
      for (const auto& u : lot_applied->usage) {
        const auto ukey = std::make_pair(r.partition, u.key);
        auto uit = usage.find(ukey);
        if (uit == usage.end()) {
          auto current = store_->reagent_usage(r.partition, u.key);
          if (!current) return current.error();
          uit = usage.emplace(ukey, *current).first;
        }
        uit->second += u.change;
        usage_deltas.push_back(u);
      }
      touched_lots[lkey] = std::move(lot_applied->after);
      record_applied();
      continue;
    }
    const auto key = std::make_pair(r.partition, e.din);
    auto found = touched.find(key);
    bool exists = found != touched.end();
    const bool loaded = !exists;
    if (loaded) {
      auto d = store_->donation(r.partition, e.din);
      if (!d) return d.error();
      index_before[key] = *d ? index_entries(**d) : std::vector<IndexEntry>{};
      exists = d->has_value();
      found = touched.emplace(key, exists ? std::move(**d) : Donation{}).first;
    }
    // Applied in place (the projector's apply_event_in_place: the same rules
    // without copying the donation's history); a refusal changes nothing.
    Donation& donation = found->second;
    const bool was_positive = exists && donation.tti_positive;
    auto applied = apply_event_in_place(ref_, options_.rules, donation, exists, e);
    if (!applied) {
      if (loaded) touched.erase(found);
      reject(applied.error(), &e);
      continue;
    }
    for (const auto& delta : applied->stock) stock_change[r.partition].apply(delta);
    for (const auto& delta : applied->demand) {
      const auto dkey = std::make_pair(r.partition, delta.key);
      auto it = demand.find(dkey);
      if (it == demand.end()) {
        auto current = store_->demand(r.partition, delta.key);
        if (!current) return current.error();
        it = demand.emplace(dkey, *current).first;
      }
      it->second += delta.change;
      demand_deltas.push_back(delta);
    }
    // A positive screen with a lookback: the donor's earlier units are to be
    // recalled (send_pending() produces the recalls).
    if (e.type == EventType::test_resulted && donation.tti_positive && !was_positive &&
        !donation.donor.empty()) {
      const TestDef* t = ref_.test(e.test);
      if (t && t->lookback_hours > 0) {
        const PendingLookback l{r.partition, e.din, donation.donor, e.test, donation.facility, e.at,
                                donation.collected_at};
        batch.put_lookback(l);
        new_lookbacks.push_back(l);
      }
    }
    record_applied();
  }

  // Indexes change by difference; the alert model sees the same changes
  // (it ignores the kinds it does not keep).
  auto update_index = [&](std::int32_t p, const std::vector<IndexEntry>& before,
                          const std::vector<IndexEntry>& after) {
    for (const auto& entry : before) {
      if (std::find(after.begin(), after.end(), entry) == after.end()) {
        batch.delete_index(p, entry);
        alerts_->on_index(entry, false);
      }
    }
    for (const auto& entry : after) {
      if (std::find(before.begin(), before.end(), entry) == before.end()) {
        batch.put_index(p, entry);
        alerts_->on_index(entry, true);
      }
    }
  };
  for (const auto& [key, lot] : touched_lots) {
    batch.put_reagent_lot(key.first, lot);
    alerts_->set_reagent_lot(lot);
    update_index(key.first, lot_index_before[key], reagent_index_entries(lot));
  }
  for (const auto& [ukey, count] : usage) batch.put_reagent_usage(ukey.first, ukey.second, count);
  for (const auto& u : usage_deltas) alerts_->on_reagent_usage(u.key, u.change);

  for (const auto& [key, d] : touched) {
    batch.put_donation(key.first, key.second, encode_donation(d));
    update_index(key.first, index_before[key], index_entries(d));
  }
  for (const auto& [dkey, count] : demand) batch.put_demand(dkey.first, dkey.second, count);
  std::map<std::int32_t, StockTable> new_partition_stock;
  {
    std::lock_guard lock(mu_);
    for (const auto& [p, change] : stock_change) {
      StockTable& table = new_partition_stock[p];
      table = partition_stock_[p];
      for (const auto& [k, n] : change.cells()) {
        table.apply(StockDelta{k, n});
        batch.put_stock(p, k, table.count(k));
      }
    }
  }
  {
    std::lock_guard lock(mu_);
    for (const auto& [p, off] : next) batch.put_offset(p, StoredOffset{off, cluster_id_, base_[p]});
  }
  for (const auto& [p, off] : forward_next_) batch.put_forwarded(p, off);
  delete_done_lookbacks(batch);  // cleared once committed, below

  // Alerts: the model sees this batch's changes, then is evaluated once.
  // Scale-out: an instance sees only its partitions, and a shortage judged
  // on part of the stock would be a false alarm; its engine raises none
  // (docs/scale-out.md).
  std::vector<AlertChange> changes;
  AlertState state = alert_state_;
  alerts_->advance_clock(clock);  // the events' clock, published with ownership too
  if (!scale_out()) {
    for (const auto& [p, change] : stock_change) {
      for (const auto& [k, n] : change.cells()) alerts_->on_stock(k, n);
    }
    for (const auto& d : demand_deltas) alerts_->on_demand(d.key, d.change);
    changes = alerts_->evaluate();
    for (const auto& key : alerts_->dirty()) {
      auto it = alerts_->open().find(key);
      if (it == alerts_->open().end()) batch.delete_open_alert(key);
      else batch.put_open_alert(key, dump(alert_json(it->second, ref_)));
    }
    for (const auto& c : changes) batch.put_alert_change(c.seq, dump(change_json(c, ref_)));
    state = AlertState{alerts_->seq(), alerts_->clock(), alert_state_.batch + 1};
    batch.put_batch_end(state.batch, batch_ends);
    batch.put_alert_state(state);
    batch.put_alert_cursor("kafka", alerts_forwarded_);
  }

  failpoint("before_commit");
  const auto write_start = std::chrono::steady_clock::now();
  auto written = store_->commit(batch);
  metrics_.write_micros_total += micros_since(write_start);
  if (auto s = std::move(written); !s) {
    {
      std::lock_guard lock(mu_);
      storage_problem_ = s.error().message;
    }
    // The model has seen a batch that was not written: rebuild it from disk.
    if (auto reload = load_alert_model(); !reload) {
      spdlog::error("alerts: cannot reload the model: {}", reload.error().message);
    }
    return s;
  }
  alert_state_ = state;
  committed_alert_seq_ = state.seq;
  metrics_.alert_changes += changes.size();
  metrics_.alert_units = alerts_->units_held();
  lookbacks_done_keys_.clear();
  lookbacks_new_.insert(lookbacks_new_.end(), new_lookbacks.begin(), new_lookbacks.end());
  failpoint("after_commit");
  {
    std::lock_guard lock(mu_);
    storage_problem_.clear();
    next_ = next;
    for (const auto& [p, end] : batch_ends) partials_dirty_.insert(p);
    for (auto& [p, table] : new_partition_stock) partition_stock_[p] = std::move(table);
    for (const auto& [p, change] : stock_change) total_stock_.add(change);
  }
  const auto micros = micros_since(t0);
  metrics_.applied += n_applied;
  metrics_.rejected += n_rejected;
  metrics_.duplicates += n_dup;
  ++metrics_.batches;
  metrics_.commit_micros_total += micros;
  metrics_.commit_micros_last = micros;
  processed_cv_.notify_all();

  // Rejections are durable already; forwarding them is at-least-once: the
  // marker moves in the next commit, and a restart forwards what is left.
  if (producer_) {
    for (const auto& rej : rejections) {
      if (auto s = producer_->produce(options_.kafka.rejected_topic, rej.key, rej.json); !s) {
        spdlog::warn("cannot forward a rejection: {}", s.error().message);
        break;
      }
      forward_next_[rej.partition] = rej.offset + 1;
      ++metrics_.forwarded_rejections;
    }
  }
  return {};
}

Status Engine::forward_pending_rejections() {
  if (!producer_) return {};
  bool any = false;
  for (auto p : store_->partitions()) {
    auto from = forward_next_[p];
    auto s = store_->scan_rejections(p, from, [&](std::int64_t off, std::string_view v) {
      json j = json::parse(v, nullptr, false);
      const std::string key = j.is_object() ? j.value("din", "") : "";
      if (!producer_->produce(options_.kafka.rejected_topic, key, v)) return false;
      forward_next_[p] = off + 1;
      any = true;
      return true;
    });
    if (!s) return s;
  }
  if (any) {
    Store::Batch b;
    for (const auto& [p, off] : forward_next_) b.put_forwarded(p, off);
    return store_->commit(b);
  }
  return {};
}

Status Engine::send_pending() {
  if (auto s = run_lookbacks(); !s) return s;
  return forward_alert_changes();
}

// At least once: the cursor moves only past changes Kafka has acknowledged,
// and is stored with the next commit (a restart may send a few again; each
// carries its seq, so a reader can drop repeats). Sent changes are not waited
// for: the next call moves the cursor once Kafka has them all, or sends them
// again after a failure.
Status Engine::forward_alert_changes() {
  if (!producer_) return {};
  if (alerts_delivery_) {
    if (!alerts_delivery_->settled()) return {};
    const bool failed = alerts_delivery_->failed();
    alerts_delivery_.reset();
    if (failed) {
      return make_error("kafka_unavailable", "alert changes could not be delivered yet; retrying");
    }
    if (alerts_sending_ > alerts_forwarded_) {
      metrics_.alerts_forwarded += alerts_sending_ - alerts_forwarded_;
      alerts_forwarded_ = alerts_sending_;
    }
  }
  if (committed_alert_seq_.load() < alerts_forwarded_) return {};
  std::optional<Error> failure;
  std::uint64_t next = alerts_forwarded_;
  auto tracker = std::make_shared<DeliveryTracker>();
  auto s = store_->scan_alert_changes(alerts_forwarded_, [&](std::uint64_t seq, std::string_view v) {
    const json j = json::parse(v, nullptr, false);
    const std::string key = j.is_object() ? j["alert"].value("key", "") : "";
    if (auto p = producer_->produce(options_.kafka.alerts_topic, key, v, tracker); !p) {
      failure = p.error();
      return false;
    }
    next = seq + 1;
    return next - alerts_forwarded_ < 10000;
  });
  if (next != alerts_forwarded_) {
    alerts_delivery_ = std::move(tracker);
    alerts_sending_ = next;
  }
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

// For every pending lookback: the same donor's earlier donations, wherever
// they are, and their units that were in date when the positive result came
// and are not yet final or recalled, get a UnitRecalled through Kafka. The
// recall ids are per unit, so running a lookback twice (after a crash) recalls
// each unit once.
// Produces UnitRecalled for the donor's units of donations collected before
// `l`'s, in every partition stored here (`served_only`: only those served).
Status Engine::recall_earlier_units(const PendingLookback& l, bool served_only,
                                    const std::shared_ptr<DeliveryTracker>& tracker) {
  auto earlier = store_->donations_of(l.donor);
  if (!earlier) return earlier.error();
  for (const auto& [p, dd] : *earlier) {
    if (dd.din == l.din || dd.collected_at >= l.collected_at) continue;
    if (served_only && !serves(p)) continue;
    auto d = store_->donation(p, dd.din);
    if (!d) return d.error();
    if (!d->has_value()) continue;
    for (const auto& u : (*d)->units) {
      if (is_final(u.status) || u.expires_at <= l.at || (*d)->recall(u.product)) continue;
      const Event e = recall_event(dd.din, u.product, l.facility, l.test, l.din, l.at);
      if (served_only && recalls_sent_.count(e.id)) continue;  // still on its way
      if (auto s = producer_->produce(options_.kafka.events_topic, e.din, encode_binary(e), tracker);
          !s) {
        return s;
      }
      recalls_sent_.insert(e.id);
      ++metrics_.recalls_produced;
    }
  }
  return {};
}

Status Engine::run_lookbacks() {
  if (!producer_) return {};
  // Scale-out: the donor's other donations may live in partitions served by
  // other instances; each instance answers the requests in the partials topic
  // for what it serves (again after a restore: recall ids make it idempotent).
  if (view_) {
    const auto requests = view_->lookbacks(lookbacks_done_);
    for (const auto& l : requests) {
      if (auto s = recall_earlier_units(l, true, nullptr); !s) return s;
    }
    lookbacks_done_ += requests.size();
  }
  // The last round's recalls (or requests): done once Kafka has them all.
  if (lookbacks_delivery_) {
    if (!lookbacks_delivery_->settled()) return {};
    const bool failed = lookbacks_delivery_->failed();
    lookbacks_delivery_.reset();
    std::vector<PendingLookback> sent = std::move(lookbacks_sending_);
    lookbacks_sending_.clear();
    if (failed) {
      lookbacks_scan_ = true;  // run again: recall ids make repeats harmless
      return make_error("kafka_unavailable", "lookback recalls could not be delivered yet; retrying");
    }
    // Their records go with the next batch's commit (or the idle loop's):
    // not one synced write of their own. A crash before that runs them again,
    // which recall ids make harmless.
    for (const auto& l : sent) lookbacks_done_keys_.emplace_back(l.partition, l.din);
    spdlog::info("lookback: {} positive screen(s) looked back", sent.size());
  }
  if (!lookbacks_scan_ && lookbacks_new_.empty()) return {};
  // The stored ones at the start and after a failure; otherwise those the
  // batches since added (a scan of l/ would also walk the tombstones of every
  // lookback done, which grow with history).
  std::vector<PendingLookback> round;
  if (lookbacks_scan_) {
    auto stored = store_->pending_lookbacks();
    if (!stored) return stored.error();
    round = std::move(*stored);
    lookbacks_scan_ = false;
  } else {
    round = std::move(lookbacks_new_);
  }
  lookbacks_new_.clear();
  if (round.empty()) return {};
  auto tracker = std::make_shared<DeliveryTracker>();
  for (const auto& l : round) {
    Status s = view_ ? producer_->produce_to(options_.kafka.partials_topic, l.partition,
                                             partials_key_lookback(l), encode_lookback(l), tracker)
                     : recall_earlier_units(l, false, tracker);
    if (!s) {
      lookbacks_scan_ = true;
      return s;  // what was queued is delivered or not; the round runs again in full
    }
  }
  lookbacks_delivery_ = std::move(tracker);
  lookbacks_sending_ = std::move(round);
  return {};
}

void Engine::delete_done_lookbacks(Store::Batch& batch) const {
  for (const auto& [p, din] : lookbacks_done_keys_) batch.delete_lookback(p, din);
}

// Runs inside the consumer's poll, on the apply thread.
std::map<std::int32_t, std::int64_t> Engine::start_offsets(
    const std::vector<std::int32_t>& assigned) {
  if (scale_out()) {
    const std::set<std::int32_t> keep(assigned.begin(), assigned.end());
    std::set<std::int32_t> drop;
    for (auto p : store_->partitions()) {
      if (!keep.count(p)) drop.insert(p);
    }
    {
      std::lock_guard lock(mu_);
      for (const auto& [p, off] : next_) {
        if (!keep.count(p)) drop.insert(p);
      }
    }
    if (auto s = drop_partitions(drop); !s) {
      spdlog::error("scale-out: cannot drop partitions moved elsewhere: {}", s.error().message);
    }
    std::lock_guard lock(mu_);
    owned_ = keep;
    assignment_changed_ = true;
  }
  std::lock_guard lock(mu_);
  return next_;
}

void Engine::on_revoked() {
  if (!scale_out()) return;
  std::lock_guard lock(mu_);
  // Nothing is answered here until the group assigns again; a partition that
  // comes back is served again at once (its state here is current).
  served_before_.clear();
  for (auto p : owned_) {
    if (!restore_target_.count(p)) served_before_.insert(p);
  }
  owned_.clear();
  restore_target_.clear();
}

// A partition given to another instance: its state there is rebuilt from
// Kafka, so here every key of it goes, and it leaves every in-memory view.
Status Engine::drop_partitions(const std::set<std::int32_t>& drop) {
  if (drop.empty()) return {};
  Store::Batch b;
  for (auto p : drop) b.drop_partition(p);
  if (auto s = store_->commit(b); !s) return s;
  lookbacks_scan_ = true;  // those of the dropped partitions are gone
  std::lock_guard lock(mu_);
  for (auto p : drop) {
    auto it = partition_stock_.find(p);
    if (it != partition_stock_.end()) {
      for (const auto& [k, n] : it->second.cells()) {
        total_stock_.apply(StockDelta{k, -n});
        alerts_->on_stock(k, -n);
      }
      partition_stock_.erase(it);
    }
    next_.erase(p);
    base_.erase(p);
    forward_next_.erase(p);
    high_watermarks_.erase(p);
    partials_dirty_.erase(p);
  }
  spdlog::info("scale-out: dropped {} partition(s) the group gave to other instances",
               drop.size());
  return {};
}

// After an assignment: each partition whose history this store lacks is
// being restored until its committed offset reaches the end Kafka had when it
// was assigned; only then is it served and its stock published.
void Engine::after_assignment(Consumer& consumer) {
  std::set<std::int32_t> owned, served_before;
  std::map<std::int32_t, std::int64_t> next;
  {
    std::lock_guard lock(mu_);
    assignment_changed_ = false;
    owned = owned_;
    next = next_;
    served_before = served_before_;
  }
  std::map<std::int32_t, std::int64_t> targets;
  std::set<std::int32_t> unrestorable;
  for (auto p : owned) {
    std::int64_t low = 0, high = 0;
    if (!consumer.query_watermarks(p, low, high, 5000)) {
      spdlog::warn("scale-out: partition {}: watermarks unknown; serving it as it is", p);
      continue;
    }
    auto it = next.find(p);
    const std::int64_t have = it == next.end() ? 0 : it->second;
    if (have < low) unrestorable.insert(p);
    if (have < high && !served_before.count(p)) targets[p] = high;
  }
  for (auto p : unrestorable) {
    spdlog::error(
        "scale-out: partition {}'s history is no longer complete in Kafka (retention): this "
        "instance cannot restore it exactly; the events topic must keep every event "
        "(retention.ms=-1, docs/scale-out.md)",
        p);
  }
  {
    std::lock_guard lock(mu_);
    restore_target_ = targets;
    unrestorable_ = unrestorable;
  }
  spdlog::info("scale-out: instance {} owns {} partition(s), restoring {}", options_.instance,
               owned.size(), targets.size());
  lookbacks_done_ = 0;  // answer every lookback request again for new partitions
  publish_partials(true);
}

void Engine::publish_partials(bool heartbeat) {
  if (!scale_out() || !producer_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!heartbeat && now - last_heartbeat_ > std::chrono::milliseconds(options_.owner_heartbeat_ms)) {
    heartbeat = true;
  }
  const bool stock_due =
      now - last_partials_ > std::chrono::milliseconds(options_.partials_interval_ms);
  if (!heartbeat && !stock_due) return;
  const TimeMs wall = options_.clock.now();
  std::vector<std::pair<std::int32_t, std::string>> owner_records, stock_records;
  std::vector<StockRecord> shares;
  bool restored = false;
  {
    std::lock_guard lock(mu_);
    // Partitions whose replay reached its target are served from now on.
    for (auto it = restore_target_.begin(); it != restore_target_.end();) {
      auto n = next_.find(it->first);
      if (n != next_.end() && n->second >= it->second) {
        spdlog::info("scale-out: partition {} restored up to offset {}", it->first, it->second);
        partials_dirty_.insert(it->first);
        it = restore_target_.erase(it);
        heartbeat = restored = true;
      } else {
        ++it;
      }
    }
    for (auto p : owned_) {
      auto n = next_.find(p);
      const std::int64_t off = n == next_.end() ? 0 : n->second;
      const auto target = restore_target_.find(p);
      const bool is_restoring = target != restore_target_.end();
      if (heartbeat) {
        OwnerRecord o{p,   options_.instance, options_.advertised_url, is_restoring,
                      off, is_restoring ? target->second : off, alerts_->clock(), wall};
        owner_records.emplace_back(p, encode_owner(o));
      }
      // Counts only once exact: never those of a partition half replayed.
      if (!is_restoring && (heartbeat || (stock_due && partials_dirty_.count(p)))) {
        StockRecord r;
        r.partition = p;
        r.instance = options_.instance;
        r.next_offset = off;
        r.published_at = wall;
        if (auto t = partition_stock_.find(p); t != partition_stock_.end()) r.stock = t->second;
        r.clock = alerts_->clock();
        shares.push_back(std::move(r));
        partials_dirty_.erase(p);
      }
    }
  }
  // What the national alert model needs of each partition (national_alerts.h),
  // read outside the lock: the store is safe to read from any thread.
  const std::int64_t first_day = alerts_->first_needed_day();
  const std::int64_t last_day = std::numeric_limits<std::int64_t>::max();
  for (auto& r : shares) {
    auto demand = store_->demand_window(first_day, last_day, r.partition);
    auto index = store_->index_in(r.partition);
    auto lots = store_->reagent_lots(r.partition);
    auto usage = store_->reagent_usage_window(first_day, last_day, r.partition);
    if (!demand || !index || !lots || !usage) {
      spdlog::warn("scale-out: cannot read partition {}'s alert inputs; published later",
                   r.partition);
      std::lock_guard lock(mu_);
      partials_dirty_.insert(r.partition);
      continue;
    }
    r.demand = std::move(*demand);
    for (auto& e : *index) {
      if (e.kind == 'a' || e.kind == 'k') r.index.push_back(std::move(e));
    }
    for (auto& lot : *lots) {  // with stock, expired or not (the model skips expired ones)
      if (!lot.on_hand.empty()) r.lots[reagent_lot_key(lot.reagent, lot.lot)] = std::move(lot);
    }
    r.usage = std::move(*usage);
    stock_records.emplace_back(r.partition, encode_stock(r));
  }
  if (restored) lookbacks_done_ = 0;
  const auto& topic = options_.kafka.partials_topic;
  for (const auto& [p, v] : owner_records) {
    if (auto s = producer_->produce_to(topic, p, partials_key_owner(p), v); !s) {
      spdlog::warn("scale-out: cannot publish ownership: {}", s.error().message);
    }
  }
  for (const auto& [p, v] : stock_records) {
    if (auto s = producer_->produce_to(topic, p, partials_key_stock(p), v); !s) {
      spdlog::warn("scale-out: cannot publish partial stock: {}", s.error().message);
    }
  }
  if (heartbeat) last_heartbeat_ = now;
  if (stock_due || heartbeat) last_partials_ = now;
}

// Scale-out: the instance serving partition 0 is the alert leader. It feeds
// the national model every partition's latest published share, commits the
// changes to its own store as a single instance does (so /api/alerts, the
// alerts topic and webhooks work unchanged) and publishes its open alerts,
// so that a new leader continues from them instead of raising them again.
Status Engine::evaluate_national_alerts() {
  if (!view_) return {};
  if (!serves(0)) {
    national_.reset();
    return {};
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_national_ < std::chrono::milliseconds(options_.partials_interval_ms)) return {};
  last_national_ = now;
  if (!national_) {
    national_ = std::make_unique<NationalAlerts>(ref_, options_.supply);
    auto st = store_->alert_state();
    if (!st) return st.error();
    const auto last_leader = view_->alerts();
    if (last_leader && last_leader->seq > st->seq) {
      national_->restore(last_leader->open, last_leader->seq, last_leader->clock);
      // Changes up to there were the last leader's to send.
      alerts_forwarded_ = std::max<std::uint64_t>(alerts_forwarded_, last_leader->seq + 1);
      // This store now holds the open alerts it continues from.
      auto stored = store_->open_alerts();
      if (!stored) return stored.error();
      Store::Batch b;
      for (const auto& [key, text] : *stored) {
        if (!last_leader->open.count(key)) b.delete_open_alert(key);
      }
      for (const auto& [key, a] : last_leader->open) b.put_open_alert(key, dump(alert_json(a, ref_)));
      const AlertState state{last_leader->seq, last_leader->clock, alert_state_.batch};
      b.put_alert_state(state);
      b.put_alert_cursor("kafka", alerts_forwarded_);
      if (auto s = store_->commit(b); !s) {
        national_.reset();
        return s;
      }
      alert_state_ = state;
      committed_alert_seq_ = state.seq;
      spdlog::info("alerts: instance {} leads the alerts from seq {} (after {})",
                   options_.instance, last_leader->seq, last_leader->instance);
    } else {
      auto open = stored_open_alerts(*store_);
      if (!open) return open.error();
      national_->restore(std::move(*open), st->seq, st->clock);
      spdlog::info("alerts: instance {} leads the alerts from seq {}", options_.instance, st->seq);
    }
    national_version_ = 0;
  }
  std::uint64_t version = 0;
  const auto records = view_->records(&version);
  if (version == national_version_) return {};
  national_version_ = version;
  national_->update(records);
  const auto changes = national_->evaluate();
  const AlertModel& model = national_->model();
  if (changes.empty() && model.dirty().empty()) return {};
  Store::Batch b;
  for (const auto& key : model.dirty()) {
    auto it = model.open().find(key);
    if (it == model.open().end()) b.delete_open_alert(key);
    else b.put_open_alert(key, dump(alert_json(it->second, ref_)));
  }
  for (const auto& c : changes) b.put_alert_change(c.seq, dump(change_json(c, ref_)));
  const AlertState state{model.seq(), model.clock(), alert_state_.batch};
  b.put_alert_state(state);
  b.put_alert_cursor("kafka", alerts_forwarded_);
  if (auto s = store_->commit(b); !s) {
    national_.reset();  // rebuilt from what is stored at the next turn
    return s;
  }
  alert_state_ = state;
  committed_alert_seq_ = state.seq;
  metrics_.alert_changes += changes.size();
  if (producer_) {
    const AlertsRecord rec{options_.instance, model.seq(), model.clock(), model.open()};
    if (auto s = producer_->produce_to(options_.kafka.partials_topic, 0,
                                       std::string(kPartialsKeyAlerts), encode_alerts(rec, ref_));
        !s) {
      spdlog::warn("alerts: cannot publish the open alerts: {}", s.error().message);
    }
  }
  return {};
}

Result<std::optional<Verdict>> Engine::verdict(std::int32_t partition, std::int64_t offset) const {
  std::int64_t base = 0;
  {
    std::lock_guard lock(mu_);
    auto n = next_.find(partition);
    if (n == next_.end() || n->second <= offset) return std::optional<Verdict>{};
    auto b = base_.find(partition);
    if (b != base_.end()) base = b->second;
  }
  // Journal and rejection keys are journal positions: the Kafka offset plus
  // the partition's base (engine/storage/store.h), not the offset itself.
  const std::int64_t pos = base + offset;
  auto journaled = store_->journal_entry(partition, pos);
  if (!journaled) return journaled.error();
  if (journaled->has_value()) {
    return std::optional<Verdict>{Verdict{VerdictStatus::applied, "", ""}};
  }
  auto rejected = store_->rejection(partition, pos);
  if (!rejected) return rejected.error();
  if (!rejected->has_value()) {
    return make_error("storage_error", "The engine's verdict could not be read back.");
  }
  const json r = json::parse(**rejected, nullptr, false);
  const std::string code = r.is_object() ? r.value("code", "unknown") : "unknown";
  if (code == kDuplicateEvent) {
    return std::optional<Verdict>{Verdict{VerdictStatus::duplicate, code, ""}};
  }
  return std::optional<Verdict>{
      Verdict{VerdictStatus::rejected, code, r.is_object() ? r.value("message", "") : ""}};
}

bool Engine::serves(std::int32_t p) const {
  std::lock_guard lock(mu_);
  if (!scale_out()) return partition_stock_.count(p) > 0 || next_.count(p) > 0;
  return owned_.count(p) > 0 && restore_target_.count(p) == 0;
}

bool Engine::restoring(std::int32_t p) const {
  std::lock_guard lock(mu_);
  return restore_target_.count(p) > 0;
}

std::map<std::int32_t, StockTable> Engine::served_stock(
    std::map<std::int32_t, std::int64_t>* offsets) const {
  std::lock_guard lock(mu_);
  std::map<std::int32_t, StockTable> out;
  for (auto p : owned_) {
    if (restore_target_.count(p)) continue;
    auto t = partition_stock_.find(p);
    out[p] = t == partition_stock_.end() ? StockTable{} : t->second;
    if (offsets) {
      auto n = next_.find(p);
      (*offsets)[p] = n == next_.end() ? 0 : n->second;
    }
  }
  return out;
}

Status Engine::run(const std::atomic<bool>& stop) {
  auto consumer = Consumer::create(
      options_.kafka, [this](const std::vector<std::int32_t>& a) { return start_offsets(a); },
      [this](const std::vector<std::int32_t>&) { on_revoked(); });
  if (!consumer) return consumer.error();
  cluster_id_ = (*consumer)->cluster_id(10000);
  partition_count_ = (*consumer)->partition_count(10000);
  std::atomic<bool> view_stop{false};
  std::thread view_thread;
  if (view_) view_thread = std::thread([this, &view_stop] { view_->run(view_stop); });
  struct JoinView {
    std::atomic<bool>& stop;
    std::thread& t;
    ~JoinView() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join_view{view_stop, view_thread};
  auto stored = store_->offsets();
  if (!stored) return stored.error();
  {
    std::lock_guard lock(mu_);
    next_.clear();
    for (const auto& [p, o] : *stored) {
      if (!options_.fresh_cluster && o.cluster_id == cluster_id_) {
        next_[p] = o.next;
        base_[p] = o.base;
      }
    }
    if (!stored->empty() && next_.empty()) {
      spdlog::warn(
          "the stored offsets belong to another Kafka cluster; reading this one from the start "
          "(events already applied are recognised by id and ignored)");
    }
  }
  if (auto s = forward_pending_rejections(); !s) spdlog::warn("{}", s.error().message);
  if (auto s = send_pending(); !s) spdlog::warn("engine: {}", s.error().message);
  spdlog::info("engine: consuming {} (cluster {})", options_.kafka.events_topic, cluster_id_);

  auto last_watermarks = std::chrono::steady_clock::now();
  auto last_probe = last_watermarks;
  while (!stop.load()) {
    const auto poll_start = std::chrono::steady_clock::now();
    auto records = (*consumer)->poll_batch(options_.max_batch, options_.batch_wait_ms);
    if (!records) return records.error();
    if (!records->empty()) metrics_.poll_micros_total += micros_since(poll_start);
    // Kafka's timestamps were read off the producers' wall clocks: put them on ours.
    for (Record& r : *records) r.timestamp = options_.clock.from_wall(r.timestamp);
    bool changed = false;
    {
      std::lock_guard lock(mu_);
      changed = assignment_changed_;
    }
    if (changed) after_assignment(**consumer);
    // A reported problem stays until messages flow or the cluster answers again.
    if (records->empty() && !(*consumer)->problem().empty() &&
        std::chrono::steady_clock::now() - last_probe > std::chrono::seconds(2)) {
      last_probe = std::chrono::steady_clock::now();
      (*consumer)->probe(1000);
    }
    {
      std::lock_guard lock(mu_);
      kafka_problem_ = (*consumer)->problem();
    }
    if (!records->empty()) {
      // A batch that cannot be committed (a full disk, an I/O error) is kept
      // and retried; nothing of it and no offset is stored meanwhile, and
      // /health reports why. Stopping meanwhile is safe: the batch is consumed
      // again at the next start.
      for (int attempt = 0;; ++attempt) {
        auto s = apply_records(*records);
        if (s) break;
        {
          std::lock_guard lock(mu_);
          storage_problem_ = s.error().message;
        }
        if (attempt == 0) {
          spdlog::error("engine: {}; the batch is not committed; retrying until storage works",
                        s.error().message);
        }
        for (int waited = 0; waited < std::min(200 << std::min(attempt, 5), 5000) && !stop.load();
             waited += 50) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (stop.load()) {
          spdlog::warn("engine: stopping with a batch uncommitted; it is consumed again at the next start");
          (*consumer)->close();
          return {};
        }
        if (auto r = store_->recover(); !r) {
          // RocksDB stays read-only after a failed WAL write; once the disk takes
          // writes again, a fresh start of the process is the clean way back.
          if (store_->writable()) {
            return make_error(kRestartNeeded,
                              "storage works again but the database stays read-only after the "
                              "failed write; the engine must restart (nothing was committed)");
          }
        }
      }
      std::map<std::int32_t, std::int64_t> commit;
      {
        std::lock_guard lock(mu_);
        commit = next_;
      }
      (*consumer)->commit_async(commit);
    }
    const auto send_start = std::chrono::steady_clock::now();
    if (auto s = send_pending(); !s) spdlog::warn("engine: {}", s.error().message);
    if (records->empty() && !lookbacks_done_keys_.empty()) {
      Store::Batch b;
      delete_done_lookbacks(b);
      if (auto s = store_->commit(b); !s) {
        spdlog::warn("lookback: {}", s.error().message);
      } else {
        lookbacks_done_keys_.clear();
      }
    }
    publish_partials(false);
    if (auto s = evaluate_national_alerts(); !s) spdlog::warn("alerts: {}", s.error().message);
    metrics_.send_micros_total += micros_since(send_start);
    if (std::chrono::steady_clock::now() - last_watermarks > std::chrono::milliseconds(500)) {
      auto hw = (*consumer)->high_watermarks();
      std::lock_guard lock(mu_);
      high_watermarks_ = std::move(hw);
      last_watermarks = std::chrono::steady_clock::now();
    }
  }
  (*consumer)->close();
  if (producer_) producer_->flush(5000);
  spdlog::info("engine: stopped cleanly");
  return {};
}

StockTable Engine::stock() const {
  std::lock_guard lock(mu_);
  return total_stock_;
}

bool Engine::wait_processed(std::int32_t partition, std::int64_t offset, TimeMs timeout_ms) const {
  std::unique_lock lock(mu_);
  return processed_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    auto it = next_.find(partition);
    return it != next_.end() && it->second > offset;
  });
}

EngineStatus Engine::status() const {
  std::lock_guard lock(mu_);
  EngineStatus s;
  s.kafka_problem = kafka_problem_;
  s.storage_problem = storage_problem_;
  s.healthy = kafka_problem_.empty() && storage_problem_.empty();
  s.next_offsets = next_;
  for (const auto& [p, high] : high_watermarks_) {
    auto it = next_.find(p);
    s.lag[p] = std::max<std::int64_t>(0, high - (it == next_.end() ? 0 : it->second));
  }
  if (scale_out()) {
    s.instance = options_.instance;
    for (auto p : owned_) {
      if (!restore_target_.count(p)) s.serving.push_back(p);
    }
    s.restoring = restore_target_;
    if (!unrestorable_.empty()) {
      s.healthy = false;
      if (s.kafka_problem.empty()) {
        s.kafka_problem = "Kafka no longer holds the whole history of " +
                          std::to_string(unrestorable_.size()) +
                          " assigned partition(s); they cannot be restored exactly";
      }
    }
  }
  return s;
}

// ---------------------------------------------------------------------------
// Rebuild

namespace {

Error unreadable(std::int32_t p, std::int64_t off, const Error& e) {
  return make_error("corrupt_journal", "Journal entry " + std::to_string(p) + "/" +
                                           std::to_string(off) + " cannot be read: " + e.message);
}

Error diverged(std::int32_t p, std::int64_t off, const Error& e) {
  return make_error("replay_diverged", "Journal entry " + std::to_string(p) + "/" +
                                           std::to_string(off) + " is rejected on replay: " +
                                           e.message);
}

// Runs work(i) for every i in [0, n) on up to as many threads as the machine
// has cores (this one included), each i once; the first failure in index
// order is returned. Partitions replay independently, so a rebuild uses
// every core (bench/README.md, rebuild).
Status for_each_on_cores(std::size_t n, const std::function<Status(std::size_t)>& work) {
  std::vector<Status> results(n);
  std::atomic<std::size_t> next{0};
  auto loop = [&] {
    for (std::size_t i = next++; i < n; i = next++) results[i] = work(i);
  };
  const std::size_t helpers =
      std::min<std::size_t>(n, std::max(1u, std::thread::hardware_concurrency())) - (n > 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < helpers; ++t) threads.emplace_back(loop);
  loop();
  for (auto& t : threads) t.join();
  for (auto& r : results) {
    if (!r) return r;
  }
  return {};
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
    if (auto a = replay.apply(e); !a) {
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

Result<ReplayedJournal> replay_journal(const Store& store, const ReferenceData& ref,
                                       const Rules& rules, const SupplyConfig& supply) {
  ReplayedJournal out;
  constexpr auto kAll = std::numeric_limits<std::int64_t>::max();
  std::map<std::int32_t, std::int64_t> position;
  auto replay_of = [&](std::int32_t p) -> PartitionReplay& {
    auto it = out.partitions.find(p);
    if (it == out.partitions.end()) {
      it = out.partitions.try_emplace(p, ref, rules, /*feeds_alerts=*/true).first;
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
  auto s = store.scan_batch_ends([&](std::uint64_t batch,
                                     const std::map<std::int32_t, std::int64_t>& ends) {
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
  for (const auto& c : replayed.changes) replay_changes.push_back(dump(change_json(c, ref)));
  if (stored_changes != replay_changes) {
    note("alert changes differ: " + std::to_string(stored_changes.size()) + " stored, " +
         std::to_string(replay_changes.size()) + " replayed");
  }
  auto open = store.open_alerts();
  if (!open) return open.error();
  std::map<std::string, std::string> replay_open;
  for (const auto& [key, a] : replayed.open) replay_open[key] = dump(alert_json(a, ref));
  if (*open != replay_open) note("open alerts differ from their replay");
  if (!write) return {};
  Store::Batch b;
  for (const auto& [key, text] : *open) b.delete_open_alert(key);
  for (const auto& [key, text] : replay_open) b.put_open_alert(key, text);
  for (const auto& c : replayed.changes) b.put_alert_change(c.seq, dump(change_json(c, ref)));
  b.put_alert_state(replayed.state);
  return store.commit(b);
}

}  // namespace

Result<RebuildReport> rebuild(Store& store, const ReferenceData& ref, const Rules& rules,
                              bool write, const SupplyConfig& supply) {
  const auto t0 = std::chrono::steady_clock::now();
  RebuildReport report;
  auto note = [&](std::string what) {
    report.equal = false;
    if (report.differences.size() < 10) report.differences.push_back(std::move(what));
  };
  auto journal = replay_journal(store, ref, rules, supply);
  if (!journal) return journal.error();
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
    auto& donations = replayed.donations;
    auto& stock = replayed.stock;
    f.events = replayed.events;
    f.donations = donations.size();
    f.lots = replayed.lots.size();

    // Compare with the live projections.
    std::size_t live_count = 0;
    auto cs = store.scan_donations(p, [&](std::string_view din, std::string_view bytes) {
      ++live_count;
      auto it = donations.find(std::string(din));
      if (it == donations.end()) {
        note("donation " + std::string(din) + " is live but not in the journal");
      } else if (encode_donation(it->second) != bytes) {
        note("donation " + std::string(din) + " differs from its replay");
      }
      return true;
    });
    if (!cs) return cs.error();
    if (live_count != donations.size()) {
      note("partition " + std::to_string(p) + " has " + std::to_string(live_count) +
           " live donations, the journal " + std::to_string(donations.size()));
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
    if (*live_usage != replayed.usage) note("partition " + std::to_string(p) + " reagent usage differs");
    // Indexes: every replayed entry by kind and key, then the live ones
    // streamed against them (exact, and no sort of either side).
    {
      std::unordered_map<std::string, std::string> index;
      bool same = true;  // a key replayed twice differs from the live index, which has it once
      auto add = [&](std::vector<IndexEntry> entries) {
        for (auto& entry : entries) {
          std::string k(1, entry.kind);
          k += entry.key;
          if (!index.emplace(std::move(k), std::move(entry.value)).second) same = false;
        }
      };
      for (const auto& [din, d] : donations) add(index_entries(d));
      for (const auto& [k, lot] : replayed.lots) add(reagent_index_entries(lot));
      std::size_t matched = 0;
      std::string k;
      auto is = store.scan_index_in(p, [&](char kind, std::string_view key, std::string_view value) {
        k.assign(1, kind);
        k += key;
        auto it = index.find(k);
        if (it == index.end() || it->second != value) {
          same = false;
          return false;
        }
        ++matched;
        return true;
      });
      if (!is) return is.error();
      if (!same || matched != index.size()) {
        note("partition " + std::to_string(p) + " indexes differ");
      }
    }
    auto live_demand = store.demand_window(0, std::numeric_limits<std::int64_t>::max(), p);
    if (!live_demand) return live_demand.error();
    if (*live_demand != replayed.demand) note("partition " + std::to_string(p) + " demand differs");
    auto live_stock = store.stock(p);
    if (!live_stock) return live_stock.error();
    if (!(*live_stock == stock)) note("partition " + std::to_string(p) + " stock differs");

    if (write) {
      Store::Batch b;
      b.clear_projections(p);
      for (const auto& [din, d] : donations) {
        b.put_donation(p, din, encode_donation(d));
        for (const auto& entry : index_entries(d)) b.put_index(p, entry);
      }
      for (const auto& [k, n] : stock.cells()) b.put_stock(p, k, n);
      for (const auto& [k, n] : replayed.demand) b.put_demand(p, k, n);
      for (const auto& [k, lot] : replayed.lots) {
        b.put_reagent_lot(p, lot);
        for (const auto& entry : reagent_index_entries(lot)) b.put_index(p, entry);
      }
      for (const auto& [k, n] : replayed.usage) b.put_reagent_usage(p, k, n);
      if (auto c = store.commit(b); !c) return c.error();
    }
    replayed = PartitionState{};  // this partition is done: free it before the next
    return {};
  });
  if (!compared) return compared.error();
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
