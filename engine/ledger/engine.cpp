#include "engine/ledger/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_map>

#include "engine/io/clock.h"
#include "engine/ledger/batch_applier.h"
#include "engine/ledger/metrics.h"
#include "engine/scaleout/national_alerts.h"
#include "engine/scaleout/partials.h"
#include "engine/storage/stored_json.h"
#include "events/binary_codec.h"
#include "projections/partition_replay.h"

namespace hemoledger {

using nlohmann::json;

Engine::Engine(EngineOptions options, const ReferenceData& ref, Producer* producer,
               std::unique_ptr<Store> store)
    : options_(std::move(options)),
      ref_(ref),
      producer_(producer),
      store_(std::move(store)),
      view_(scale_out() ? std::make_unique<PartialsView>(options_.kafka) : nullptr),
      rejections_(*store_, producer, options_.kafka.rejected_topic, metrics_),
      alert_outbox_(*store_, producer, options_.kafka.alerts_topic, metrics_, &options_.routing),
      lookbacks_(
          *store_, ref, producer, options_.kafka, view_.get(),
          [this](std::int32_t p) { return serves(p); }, metrics_),
      donor_checks_(*store_, ref, producer, options_.kafka.events_topic) {}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::open(EngineOptions options, const ReferenceData& ref,
                                             Producer* producer) {
  auto store = Store::open(options.data_dir + "/db");
  if (!store) return store.error();
  std::unique_ptr<Engine> e(new Engine(std::move(options), ref, producer, std::move(*store)));
  if (auto s = e->load(); !s) return s.error();
  if (e->options_.snapshots.enabled()) {
    e->snapshots_ = std::make_unique<SnapshotPublisher>(*e->store_, e->options_.snapshots,
                                                        e->options_.instance, e->options_.clock);
  }
  return e;
}

Status Engine::load() {
  {
    MutexLock lock(mu_);  // nobody else has the engine yet, but the fields are mu_'s
    auto total = std::make_shared<StockTable>();
    for (auto p : store_->partitions()) {
      auto t = store_->stock(p);
      if (!t) return t.error();
      total->add(*t);
      partition_stock_[p] = std::move(*t);
    }
    total_stock_ = std::move(total);
  }
  if (auto s = rejections_.load(); !s) return s;
  if (auto s = alert_outbox_.load(); !s) return s;
  return load_alert_model();
}

// The alert model from what is committed: its own state, then the inputs it
// keeps (available stock, demand in the window and memory, the kAlertIndexKinds indexes).
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

AvailableUnitsSource Engine::committed_units() const {
  return [this](TimeMs after, TimeMs upto) { return store_->available_expiring(after, upto); };
}

Status Engine::load_alert_model() {
  auto st = store_->alert_state();
  if (!st) return st.error();
  auto stored = stored_open_alerts(*store_);
  if (!stored) return stored.error();
  std::map<std::string, Alert> alerts = std::move(*stored);
  alert_state_ = *st;
  alert_outbox_.set_committed(st->seq);
  alerts_ = std::make_unique<AlertModel>(ref_, options_.supply);
  alerts_->restore(std::move(alerts), st->seq, st->clock);
  // Only the units inside the expiring window (projections/alerts.h, "Memory").
  if (auto s = alerts_->bound_units(committed_units()); !s) return s;
  {
    MutexLock lock(mu_);
    for (const auto& [k, n] : total_stock_->cells()) alerts_->on_stock(k, n);
  }
  auto demand =
      store_->demand_window(alerts_->first_needed_day(), std::numeric_limits<std::int64_t>::max());
  if (!demand) return demand.error();
  for (const auto& [k, n] : *demand) alerts_->on_demand(k, n);
  for (char kind : kAlertIndexKinds) {
    if (kind == 'a') continue;  // read by bound_units()
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
    MutexLock lock(mu_);
    auto it = base_.find(p);
    if (it != base_.end()) return it->second;
  }
  // A partition this cluster has not given us before: its offsets start
  // after everything stored, so that nothing is overwritten.
  auto end = store_->log_end(p);
  if (!end) return end.error();
  MutexLock lock(mu_);
  base_[p] = *end;
  return *end;
}

std::uint64_t Engine::alert_seq() const { return alert_outbox_.committed(); }

void Engine::failpoint(std::string_view where) {
  if (options_.failpoint) options_.failpoint(where, failpoint_batch_);
}

Status Engine::apply_records(const std::vector<Record>& records) {
  const auto t0 = std::chrono::steady_clock::now();
  ++failpoint_batch_;
  std::map<std::int32_t, std::int64_t> committed;
  {
    MutexLock lock(mu_);
    committed = next_;
  }
  // Scale-out: the alert leader's follow-up events are judged by the
  // national model, and its changes commit with them (below).
  AlertModel* national = nullptr;
  if (scale_out() && leads_alerts()) {
    if (auto s = start_leading(); !s) spdlog::warn("alerts: {}", s.error().message);
    if (national_) national = &national_->model_for_follow_ups();
  }
  BatchApplier applier({*store_, ref_, options_.rules, *alerts_,
                        [this](std::int32_t p) { return base_of(p); }, national},
                       std::move(committed));
  if (auto s = applier.apply(records); !s) return s;
  // The alert model's window of available units reaches the batch's clock,
  // from the committed state, before the model sees the batch's changes.
  if (auto s = alerts_->widen_units(applier.clock(), committed_units()); !s) return s;
  auto new_stock = applier.write_projections([this](std::int32_t p) {
    MutexLock lock(mu_);
    return partition_stock_[p];
  });
  Store::Batch& batch = applier.batch();
  {
    MutexLock lock(mu_);
    for (const auto& [p, off] : applier.next()) {
      batch.put_offset(p, StoredOffset{off, cluster_id_, base_[p]});
    }
  }
  rejections_.put_cursors(batch);
  lookbacks_.put_deletions(batch);  // cleared once committed, below
  donor_checks_.put_deletions(batch);

  // Alerts: the model sees this batch's changes, then is evaluated once.
  // Scale-out: an instance sees only its partitions, and a shortage judged
  // on part of the stock would be a false alarm; its engine raises none
  // (docs/scale-out.md).
  applier.advance_alert_clock();  // the events' clock, published with ownership too
  std::vector<AlertChange> changes;
  AlertState state = alert_state_;
  if (!scale_out()) {
    changes = applier.evaluate_alerts(alert_state_, alert_outbox_.cursor());
    state = applier.alert_state();
  } else if (national && applier.follow_ups() > 0) {
    changes = national_->evaluate();
    const AlertModel& model = national_->model();
    state = AlertState{model.seq(), model.clock(), alert_state_.batch};
    put_alert_outcome(batch, model, changes, state, alert_outbox_.cursor(), ref_);
  }
  failpoint("before_commit");
  if (auto s = commit(batch); !s) {
    national_.reset();  // it has seen the batch: rebuilt from what is stored
    return s;
  }
  after_commit(applier, state, changes.size(), std::move(new_stock));
  if (national && applier.follow_ups() > 0) publish_alert_state();
  failpoint("after_commit");
  const auto micros = micros_since(t0);
  metrics_.applied += applier.applied();
  metrics_.rejected += applier.rejected();
  metrics_.duplicates += applier.duplicates();
  ++metrics_.batches;
  metrics_.commit_micros_total += micros;
  metrics_.commit_micros_last = micros;
  processed_cv_.notify_all();
  rejections_.forward(applier.rejections());
  return {};
}

// The batch written in one synced RocksDB write. On failure the alert model,
// which has seen the batch, is rebuilt from what is committed.
Status Engine::commit(Store::Batch& batch) {
  const auto write_start = std::chrono::steady_clock::now();
  const std::size_t keys = batch.operations(), bytes = batch.size_bytes();
  auto written = store_->commit(batch);
  metrics_.write_micros_total += micros_since(write_start);
  if (written) {
    metrics_.written_keys_total += keys;
    metrics_.written_bytes_total += bytes;
    return {};
  }
  {
    MutexLock lock(mu_);
    storage_problem_ = written.error().message;
  }
  if (auto reload = load_alert_model(); !reload) {
    spdlog::error("alerts: cannot reload the model: {}", reload.error().message);
  }
  return written;
}

// What the committed batch changes in memory: the alert outbox, the lookbacks
// to run, the offsets, the stock served, the partitions to publish.
void Engine::after_commit(const BatchApplier& applier, const AlertState& state,
                          std::size_t alert_changes, std::map<std::int32_t, StockTable> new_stock) {
  alert_state_ = state;
  alert_outbox_.set_committed(state.seq);
  metrics_.alert_changes += alert_changes;
  metrics_.alert_units = alerts_->units_held();
  lookbacks_.committed(applier.new_lookbacks());
  donor_checks_.committed(applier.new_donor_checks());
  metrics_.last_batch_ms = options_.clock.now();
  if (!applier.stock_change().empty()) {
    publish_stock([&](StockTable& total) {
      for (const auto& [p, change] : applier.stock_change()) total.add(change);
    });
  }
  MutexLock lock(mu_);
  storage_problem_.clear();
  for (const auto& gap : applier.gaps()) add_gap(gap);
  next_ = applier.next();
  for (const auto& [p, end] : applier.batch_ends()) partials_dirty_.insert(p);
  for (auto& [p, table] : new_stock) partition_stock_[p] = std::move(table);
}

void Engine::publish_stock(const std::function<void(StockTable&)>& change) {
  std::shared_ptr<const StockTable> current;
  {
    MutexLock lock(mu_);
    current = total_stock_;
  }
  auto next = std::make_shared<StockTable>(*current);  // the copy, outside the lock
  change(*next);
  MutexLock lock(mu_);
  total_stock_ = std::move(next);
  ++stock_version_;
  processed_cv_.notify_all();
}

Status Engine::send_pending() {
  if (auto s = lookbacks_.send(); !s) return s;
  if (auto s = donor_checks_.send(); !s) return s;
  return alert_outbox_.send();
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
      MutexLock lock(mu_);
      for (const auto& [p, off] : next_) {
        if (!keep.count(p)) drop.insert(p);
      }
    }
    if (auto s = drop_partitions(drop); !s) {
      spdlog::error("scale-out: cannot drop partitions moved elsewhere: {}", s.error().message);
    }
    {
      MutexLock lock(mu_);
      owned_ = keep;
      // Not served until after_assignment has asked Kafka how far each must
      // catch up: a partition being installed or replayed is not current yet.
      for (auto p : keep) {
        if (!served_before_.count(p)) {
          restore_target_.emplace(p, std::numeric_limits<std::int64_t>::max());
        }
      }
    }
    install_snapshots(assigned);  // engine_handover.cpp
  }
  MutexLock lock(mu_);
  assignment_changed_ = true;  // checked after the poll (after_assignment, check_retention)
  return next_;
}

void Engine::on_revoked() {
  if (!scale_out()) return;
  MutexLock lock(mu_);
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
  lookbacks_.rescan();  // those of the dropped partitions are gone
  donor_checks_.rescan();
  rejections_.drop(drop);
  std::map<std::int32_t, StockTable> dropped;
  {
    MutexLock lock(mu_);
    for (auto p : drop) {
      auto it = partition_stock_.find(p);
      if (it != partition_stock_.end()) dropped.insert(*it);
    }
  }
  publish_stock([&](StockTable& total) {
    for (const auto& [p, table] : dropped) {
      for (const auto& [k, n] : table.cells()) total.apply(StockDelta{k, -n});
    }
  });
  MutexLock lock(mu_);
  for (auto p : drop) {
    auto it = partition_stock_.find(p);
    if (it != partition_stock_.end()) {
      for (const auto& [k, n] : it->second.cells()) alerts_->on_stock(k, -n);
      partition_stock_.erase(it);
    }
    next_.erase(p);
    base_.erase(p);
    high_watermarks_.erase(p);
    partials_dirty_.erase(p);
  }
  spdlog::info("scale-out: dropped {} partition(s) the group gave to other instances", drop.size());
  return {};
}

// After an assignment: each partition whose history this store lacks is
// being restored until its committed offset reaches the end Kafka had when it
// was assigned; only then is it served and its stock published.
void Engine::after_assignment(Consumer& consumer) {
  std::set<std::int32_t> owned, served_before;
  std::map<std::int32_t, std::int64_t> next;
  {
    MutexLock lock(mu_);
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
    MutexLock lock(mu_);
    restore_target_ = targets;
    unrestorable_ = unrestorable;
  }
  spdlog::info("scale-out: instance {} owns {} partition(s), restoring {}", options_.instance,
               owned.size(), targets.size());
  lookbacks_.answer_requests_again();  // for the new partitions
  publish_partials(true);
}

// What the national alert model needs of a partition (national_alerts.h),
// read outside the lock: the store is safe to read from any thread. False
// (and the partition published later) when it cannot be read.
bool Engine::add_alert_inputs(StockRecord& r) {
  const std::int64_t first_day = alerts_->first_needed_day();
  const std::int64_t last_day = std::numeric_limits<std::int64_t>::max();
  auto demand = store_->demand_window(first_day, last_day, r.partition);
  auto index = store_->index_in(r.partition);
  auto lots = store_->reagent_lots(r.partition);
  auto usage = store_->reagent_usage_window(first_day, last_day, r.partition);
  if (!demand || !index || !lots || !usage) {
    spdlog::warn("scale-out: cannot read partition {}'s alert inputs; published later",
                 r.partition);
    MutexLock lock(mu_);
    partials_dirty_.insert(r.partition);
    return false;
  }
  r.demand = std::move(*demand);
  for (auto& e : *index) {
    // The alerts' indexes; a bank's record of what it issued stays home.
    if (std::find(std::begin(kAlertIndexKinds), std::end(kAlertIndexKinds), e.kind) !=
            std::end(kAlertIndexKinds) &&
        !is_issued_entry(e)) {
      r.index.push_back(std::move(e));
    }
  }
  for (auto& lot : *lots) {  // with stock, expired or not (the model skips expired ones)
    if (!lot.on_hand.empty()) r.lots[reagent_lot_key(lot.reagent, lot.lot)] = std::move(lot);
  }
  r.usage = std::move(*usage);
  return true;
}

void Engine::publish_partials(bool heartbeat) {
  if (!scale_out() || !producer_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!heartbeat &&
      now - last_heartbeat_ > std::chrono::milliseconds(options_.owner_heartbeat_ms)) {
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
    MutexLock lock(mu_);
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
        OwnerRecord o{p,
                      options_.instance,
                      options_.advertised_url,
                      is_restoring,
                      off,
                      is_restoring ? target->second : off,
                      alerts_->clock(),
                      wall};
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
  for (auto& r : shares) {
    if (add_alert_inputs(r)) stock_records.emplace_back(r.partition, encode_stock(r));
  }
  if (restored) lookbacks_.answer_requests_again();
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

// The national model of the alert leader, from where the last leader
// stopped (its alerts|state record) or from this store; a no-op when it
// exists already.
Status Engine::start_leading() {
  if (national_ || !view_) return {};
  auto national = std::make_unique<NationalAlerts>(ref_, options_.supply);
  auto st = store_->alert_state();
  if (!st) return st.error();
  const auto last_leader = view_->alerts();
  if (last_leader && last_leader->seq > st->seq) {
    national->restore(last_leader->open, last_leader->seq, last_leader->clock);
    // Changes up to there were the last leader's to send.
    alert_outbox_.skip_to(last_leader->seq + 1);
    // This store now holds the open alerts it continues from.
    auto stored = store_->open_alerts();
    if (!stored) return stored.error();
    Store::Batch b;
    for (const auto& [key, text] : *stored) {
      if (!last_leader->open.count(key)) b.delete_open_alert(key);
    }
    for (const auto& [key, a] : last_leader->open)
      b.put_open_alert(key, stored_json(alert_json(a, ref_)));
    const AlertState state{last_leader->seq, last_leader->clock, alert_state_.batch};
    b.put_alert_state(state);
    b.put_alert_cursor("kafka", alert_outbox_.cursor());
    if (auto s = store_->commit(b); !s) return s;
    alert_state_ = state;
    alert_outbox_.set_committed(state.seq);
    spdlog::info("alerts: instance {} leads the alerts from seq {} (after {})", options_.instance,
                 last_leader->seq, last_leader->instance);
  } else {
    auto open = stored_open_alerts(*store_);
    if (!open) return open.error();
    national->restore(std::move(*open), st->seq, st->clock);
    spdlog::info("alerts: instance {} leads the alerts from seq {}", options_.instance, st->seq);
  }
  national_ = std::move(national);
  national_version_ = 0;
  return {};
}

// Scale-out: the instance serving alert_partition() is the alert leader. It feeds
// the national model every partition's latest published share, commits the
// changes to its own store as a single instance does (so /api/alerts, the
// alerts topic and webhooks work unchanged) and publishes its open alerts,
// so that a new leader continues from them instead of raising them again.
Status Engine::evaluate_national_alerts() {
  if (!view_) return {};
  if (!leads_alerts()) {
    national_.reset();
    return {};
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_national_ < std::chrono::milliseconds(options_.partials_interval_ms)) return {};
  last_national_ = now;
  if (auto s = start_leading(); !s) return s;
  std::uint64_t version = 0;
  const auto records = view_->records(&version);
  if (version == national_version_) return {};
  national_version_ = version;
  national_->update(records);
  const auto changes = national_->evaluate();
  const AlertModel& model = national_->model();
  if (changes.empty() && model.dirty().empty()) return {};
  Store::Batch b;
  const AlertState state{model.seq(), model.clock(), alert_state_.batch};
  put_alert_outcome(b, model, changes, state, alert_outbox_.cursor(), ref_);
  if (auto s = store_->commit(b); !s) {
    national_.reset();  // rebuilt from what is stored at the next turn
    return s;
  }
  alert_state_ = state;
  alert_outbox_.set_committed(state.seq);
  metrics_.alert_changes += changes.size();
  publish_alert_state();
  return {};
}

// The leader's open alerts to the partials topic (alerts|state), for the next leader.
void Engine::publish_alert_state() {
  if (!producer_ || !national_) return;
  const AlertModel& model = national_->model();
  const AlertsRecord rec{options_.instance, model.seq(), model.clock(), model.open()};
  if (auto s = producer_->produce_to(options_.kafka.partials_topic, 0,
                                     std::string(kPartialsKeyAlerts), encode_alerts(rec, ref_));
      !s) {
    spdlog::warn("alerts: cannot publish the open alerts: {}", s.error().message);
  }
}

Result<std::optional<Verdict>> Engine::verdict(std::int32_t partition, std::int64_t offset) const {
  std::int64_t base = 0;
  {
    MutexLock lock(mu_);
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
  MutexLock lock(mu_);
  if (!scale_out()) return partition_stock_.count(p) > 0 || next_.count(p) > 0;
  return owned_.count(p) > 0 && restore_target_.count(p) == 0;
}

std::int32_t Engine::alert_partition() const {
  // The partition of the follow-up events' key (events/event.h event_key):
  // the leader applies acknowledgements, escalations and closures itself.
  static const std::string key = [] {
    Event e;
    e.type = EventType::alert_acknowledged;
    return event_key(e);
  }();
  const std::int32_t count = partition_count();
  return count > 0 ? partition_for_key(key, count) : -1;
}

bool Engine::leads_alerts() const {
  if (!scale_out()) return true;
  const std::int32_t p = alert_partition();
  return p >= 0 && serves(p);
}

bool Engine::restoring(std::int32_t p) const {
  MutexLock lock(mu_);
  return restore_target_.count(p) > 0;
}

std::map<std::int32_t, StockTable> Engine::served_stock(
    std::map<std::int32_t, std::int64_t>* offsets) const {
  MutexLock lock(mu_);
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
  if (auto s = restore_offsets(); !s) return s;
  if (auto s = rejections_.forward_stored(); !s) spdlog::warn("{}", s.error().message);
  if (auto s = send_pending(); !s) spdlog::warn("engine: {}", s.error().message);
  spdlog::info("engine: consuming {} (cluster {})", options_.kafka.events_topic, cluster_id_);

  LoopClock times;
  while (!stop.load()) {
    auto records = poll(**consumer, times);
    if (!records) return records.error();
    if (!records->empty()) {
      bool stopped = false;
      if (auto s = apply_until_committed(*records, stop, stopped); !s) return s;
      if (stopped) {
        spdlog::warn(
            "engine: stopping with a batch uncommitted; it is consumed again at the "
            "next start");
        (*consumer)->close();
        return {};
      }
      (*consumer)->commit_async(committed_offsets());
    }
    between_batches(**consumer, records->empty(), times);
  }
  final_snapshots();  // before the group may give the partitions to another instance
  (*consumer)->close();
  if (producer_) producer_->flush(5000);
  spdlog::info("engine: stopped cleanly");
  return {};
}

// The offsets stored with the state, if they are this cluster's.
Status Engine::restore_offsets() {
  auto stored = store_->offsets();
  if (!stored) return stored.error();
  MutexLock lock(mu_);
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
  return {};
}

std::map<std::int32_t, std::int64_t> Engine::committed_offsets() const {
  MutexLock lock(mu_);
  return next_;
}

// The next batch from Kafka, its timestamps on the engine's clock; and what
// the consumer says of Kafka's health.
Result<std::vector<Record>> Engine::poll(Consumer& consumer, LoopClock& times) {
  const auto poll_start = std::chrono::steady_clock::now();
  auto records = consumer.poll_batch(options_.max_batch, options_.batch_wait_ms);
  if (!records) return records.error();
  if (!records->empty()) metrics_.poll_micros_total += micros_since(poll_start);
  // Kafka's timestamps were read off the producers' wall clocks: put them on ours.
  for (Record& r : *records) r.timestamp = options_.clock.from_wall(r.timestamp);
  bool changed = false;
  {
    MutexLock lock(mu_);
    changed = assignment_changed_;
  }
  if (changed && scale_out()) after_assignment(consumer);
  if (changed && !scale_out()) check_retention(consumer);
  // A reported problem stays until messages flow or the cluster answers again.
  if (records->empty() && !consumer.problem().empty() &&
      std::chrono::steady_clock::now() - times.last_probe > std::chrono::seconds(2)) {
    times.last_probe = std::chrono::steady_clock::now();
    consumer.probe(1000);
  }
  MutexLock lock(mu_);
  kafka_problem_ = consumer.problem();
  return records;
}

// A batch that cannot be committed (a full disk, an I/O error) is kept and
// retried with backoff; nothing of it and no offset is stored meanwhile, and
// /health reports why. Stopping meanwhile is safe (`stopped`): the batch is
// consumed again at the next start.
Status Engine::apply_until_committed(const std::vector<Record>& records,
                                     const std::atomic<bool>& stop, bool& stopped) {
  for (int attempt = 0;; ++attempt) {
    auto s = apply_records(records);
    if (s) return {};
    {
      MutexLock lock(mu_);
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
      stopped = true;
      return {};
    }
    // RocksDB stays read-only after a failed WAL write; once the disk takes
    // writes again, a fresh start of the process is the clean way back.
    if (auto r = store_->recover(); !r && store_->writable()) {
      return make_error(kRestartNeeded,
                        "storage works again but the database stays read-only after the "
                        "failed write; the engine must restart (nothing was committed)");
    }
  }
}

// Between batches: the outbox, the lookback records done (with their own
// commit when the topic is quiet), scale-out records and national alerts,
// and Kafka's high watermarks for /health.
void Engine::between_batches(Consumer& consumer, bool idle, LoopClock& times) {
  const auto send_start = std::chrono::steady_clock::now();
  if (auto s = send_pending(); !s) spdlog::warn("engine: {}", s.error().message);
  if (idle && (lookbacks_.has_deletions() || donor_checks_.has_deletions())) {
    Store::Batch b;
    lookbacks_.put_deletions(b);
    donor_checks_.put_deletions(b);
    if (auto s = store_->commit(b); !s) {
      spdlog::warn("lookback: {}", s.error().message);
    } else {
      lookbacks_.committed({});
      donor_checks_.committed({});
    }
  }
  publish_partials(false);
  feed_snapshots();  // engine_handover.cpp
  if (auto s = evaluate_national_alerts(); !s) spdlog::warn("alerts: {}", s.error().message);
  metrics_.send_micros_total += micros_since(send_start);
  if (std::chrono::steady_clock::now() - times.last_watermarks > std::chrono::milliseconds(500)) {
    auto hw = consumer.high_watermarks();
    MutexLock lock(mu_);
    high_watermarks_ = std::move(hw);
    times.last_watermarks = std::chrono::steady_clock::now();
  }
}

// The stored offsets of this cluster against Kafka's low watermarks: what lies
// between was never applied here and is gone from Kafka (a restore from an
// old backup, or a stop longer than the retention). The consumer then starts
// at the low watermark, and the gap is reported until the process ends.
void Engine::check_retention(Consumer& consumer) {
  std::map<std::int32_t, std::int64_t> next;
  {
    MutexLock lock(mu_);
    assignment_changed_ = false;
    next = next_;
  }
  for (const auto& [p, have] : next) {
    std::int64_t low = 0, high = 0;
    if (!consumer.query_watermarks(p, low, high, 5000)) {
      spdlog::warn("partition {}: Kafka's watermarks are unknown; retention not checked", p);
      continue;
    }
    if (have < low) {
      MutexLock lock(mu_);
      add_gap(KafkaGap{p, have, low - 1});
    }
  }
}

void Engine::add_gap(const KafkaGap& gap) {
  for (const auto& known : missing_) {
    if (known.partition == gap.partition && known.from <= gap.from && gap.to <= known.to) return;
  }
  missing_.push_back(gap);
  spdlog::error(
      "partition {}: offsets {}..{} ({} message(s)) were never applied here and Kafka no longer "
      "holds them; produce those events again from their source or an archive "
      "(docs/operations.md, \"/health is degraded\")",
      gap.partition, gap.from, gap.to, gap.count());
}

StockTable Engine::stock() const { return *stock_snapshot().table; }

Engine::StockSnapshot Engine::stock_snapshot() const {
  MutexLock lock(mu_);
  return {total_stock_, stock_version_};
}

Engine::StockSnapshot Engine::wait_stock_snapshot(std::uint64_t version, TimeMs timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  MutexLock lock(mu_);
  while (stock_version_ <= version) {
    if (!lock.wait_until(processed_cv_, deadline)) break;
  }
  return {total_stock_, stock_version_};
}

bool Engine::wait_processed(std::int32_t partition, std::int64_t offset, TimeMs timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  MutexLock lock(mu_);
  while (!committed_past(partition, offset)) {
    if (!lock.wait_until(processed_cv_, deadline)) return committed_past(partition, offset);
  }
  return true;
}

bool Engine::committed_past(std::int32_t partition, std::int64_t offset) const {
  auto it = next_.find(partition);
  return it != next_.end() && it->second > offset;
}

EngineStatus Engine::status() const {
  EngineStatus s;
  if (snapshots_) s.snapshots = snapshots_->status();
  MutexLock lock(mu_);
  s.kafka_problem = kafka_problem_;
  s.storage_problem = storage_problem_;
  s.healthy = kafka_problem_.empty() && storage_problem_.empty() && missing_.empty();
  s.next_offsets = next_;
  s.missing = missing_;
  if (!missing_.empty() && s.kafka_problem.empty()) {
    std::int64_t lost = 0;
    std::string where;
    for (const auto& g : missing_) {
      lost += g.count();
      where += (where.empty() ? "" : "; ") + std::string("partition ") +
               std::to_string(g.partition) + " offsets " + std::to_string(g.from) + ".." +
               std::to_string(g.to);
    }
    s.kafka_problem = "Kafka no longer holds " + std::to_string(lost) +
                      " message(s) that this engine never applied (" + where +
                      "): they are missing from the journal";
  }
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
    for (const auto& [p, r] : restores_) {
      if (owned_.count(p)) s.restores[p] = r;
    }
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

}  // namespace hemoledger
