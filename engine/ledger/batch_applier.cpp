#include "engine/ledger/batch_applier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/io/on_cores.h"
#include "engine/ledger/outbox.h"
#include "engine/ledger/verdict.h"
#include "engine/storage/stored_json.h"
#include "events/binary_codec.h"
#include "projections/indexes.h"
#include "projections/markers.h"
#include "projections/reagents.h"

namespace hemoledger {

using nlohmann::json;

namespace {

// The outcome of an applied event, {"offset":..,"partition":..,"status":"applied"}:
// the text stored_json() gives for the same object (keys in order), without building it.
std::string applied_outcome(std::int32_t partition, std::int64_t pos,
                            const std::vector<std::string>& warnings) {
  if (!warnings.empty()) {
    return stored_json(
        {{"offset", pos}, {"partition", partition}, {"status", "applied"}, {"warnings", warnings}});
  }
  return "{\"offset\":" + std::to_string(pos) + ",\"partition\":" + std::to_string(partition) +
         ",\"status\":\"applied\"}";
}

// The stored rejection: where, why, what the event was (when it decoded), and the raw bytes.
json rejection_json(const Record& r, std::int64_t pos, const Error& err, const Event* e) {
  json j = {
      {"partition", r.partition}, {"offset", pos}, {"code", err.code}, {"message", err.message}};
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
  return j;
}

}  // namespace

BatchApplier::BatchApplier(Context context, std::map<std::int32_t, std::int64_t> next)
    : ctx_(std::move(context)), next_(std::move(next)), clock_(ctx_.alerts.clock()) {}

Status BatchApplier::apply(const std::vector<Record>& records) {
  if (auto s = read_ahead(records); !s) return s;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (auto s = apply_one(records[i], i); !s) return s;
  }
  if (auto s = read_report_values(); !s) return s;
  return history_.write(ctx_.store, batch_ends_, batch_);
}

// Phase 1: every record decoded up front, so that the outcomes of their event
// ids (the idempotence check) are read in one MultiGet, not one Get each.
Status BatchApplier::read_ahead(const std::vector<Record>& records) {
  predecoded_.assign(records.size(), std::nullopt);
  prior_outcomes_.assign(records.size(), std::nullopt);
  prior_read_.assign(records.size(), false);
  decode_all(records);
  std::vector<std::pair<std::int32_t, std::string_view>> ids;
  std::vector<std::size_t> of;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!predecoded_[i] || !*predecoded_[i]) continue;
    ids.emplace_back(records[i].partition, (*predecoded_[i])->id);
    of.push_back(i);
  }
  auto found = ctx_.store.outcomes(ids);
  if (!found) return found.error();
  for (std::size_t k = 0; k < of.size(); ++k) {
    prior_outcomes_[of[k]] = std::move((*found)[k]);
    prior_read_[of[k]] = true;
  }
  return {};
}

// Decoding is pure and needs no store: a large batch's records decode on
// every core (each thread takes every n-th record), a small one's here.
void BatchApplier::decode_all(const std::vector<Record>& records) {
  std::vector<std::size_t> todo;
  todo.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto it = next_.find(records[i].partition);
    if (it == next_.end() || records[i].offset >= it->second) todo.push_back(i);
  }
  // Decoding fails per record (a rejection), never as a whole.
  for_each_item_on_cores(todo.size(), kDecodeOnCoresFrom, [&](std::size_t k) {
    predecoded_[todo[k]] = decode_event(records[todo[k]].value);
  });
}

Status BatchApplier::apply_one(const Record& r, std::size_t index) {
  auto it = next_.find(r.partition);
  if (it != next_.end() && r.offset < it->second) return {};  // already committed
  if (it != next_.end() && r.offset > it->second) {
    spdlog::warn("partition {}: offsets {}..{} were not delivered (retention or a new cluster)",
                 r.partition, it->second, r.offset - 1);
    gaps_.push_back(KafkaGap{r.partition, it->second, r.offset - 1});
  }
  next_[r.partition] = r.offset + 1;
  auto base = ctx_.base_of(r.partition);
  if (!base) return base.error();
  const Admitted a{r, *base + r.offset, index};
  batch_ends_[r.partition] = a.pos + 1;

  auto admitted = admit(a);
  if (!admitted) return admitted.error();
  if (!*admitted) return {};
  const Event& e = **admitted;
  if (auto s = sample_report_day(r.partition, e); !s) return s;
  if (e.type == EventType::clock_ticked) {
    apply_tick(a, e);
    return {};
  }
  if (is_alert_event(e.type)) {
    apply_follow_up(a, e);
    return {};
  }
  if (is_reagent_event(e.type)) return apply_reagent(a, e);
  if (is_donor_event(e.type)) return apply_donor(a, e);
  return apply_donation(a, e);
}

// Phase 2: what may not reach the projector at all.
Result<std::optional<Event>> BatchApplier::admit(const Admitted& a) {
  const Record& r = a.record;
  auto decoded = predecoded_[a.index] ? std::move(*predecoded_[a.index]) : decode_event(r.value);
  if (!decoded) {
    reject(a, decoded.error(), nullptr);
    return std::optional<Event>{};
  }
  Event& e = *decoded;
  if (e.recorded_at == 0) e.recorded_at = r.timestamp;
  // Dated more than a day after the broker received it: a device's clock is
  // wrong (the broker's timestamp, not a field the client can set). Not
  // re-checked on replay: the journal holds only events that passed.
  if (r.timestamp != 0) {
    if (auto s = check_plausible_time(e, r.timestamp); !s) {
      reject(a, s.error(), &e);
      return std::optional<Event>{};
    }
  }
  // An event written in an older schema is held to the older rules (an old
  // journal replays unchanged); a new one must not choose them.
  if (r.timestamp != 0 && e.schema_version < kBedsideSchemaVersion && !is_reagent_event(e.type) &&
      !is_donor_event(e.type) && e.type != EventType::clock_ticked) {
    reject(a,
           make_error("outdated_schema",
                      "The event is written in schema version " + std::to_string(e.schema_version) +
                          "; events about donations must be "
                          "written in version " +
                          std::to_string(kBedsideSchemaVersion) +
                          " or later so that the bedside rules apply. Send it again without "
                          "schema_version."),
           &e);
    return std::optional<Event>{};
  }
  if (r.key != event_key(e)) {
    reject(
        a,
        make_error(r.key.empty() ? "missing_key" : "key_mismatch",
                   is_reagent_event(e.type) ? "The Kafka message key must be " + event_key(e) +
                                                  " so that a reagent lot's events stay in order."
                                            : "The Kafka message key must be the DIN (" + e.din +
                                                  ") so that a donation's events stay in order."),
        &e);
    return std::optional<Event>{};
  }
  auto duplicate = is_duplicate(a, e);
  if (!duplicate) return duplicate.error();
  if (*duplicate) {
    reject(a,
           make_error(std::string(kDuplicateEvent),
                      "Event " + e.id + " was already applied; the repeat changes nothing."),
           &e);
    return std::optional<Event>{};
  }
  return std::optional<Event>(std::move(e));
}

// Idempotence: an id already applied is ignored (rejected ids may retry).
Result<bool> BatchApplier::is_duplicate(const Admitted& a, const Event& e) {
  const std::int32_t p = a.record.partition;
  if (applied_ids_[p].count(e.id) > 0) return true;
  auto prior = prior_read_[a.index] ? Result<std::optional<std::string>>(prior_outcomes_[a.index])
                                    : ctx_.store.outcome(p, e.id);
  if (!prior) return prior.error();
  return prior->has_value() &&
         json::parse(**prior, nullptr, false).value("status", "") == "applied";
}

void BatchApplier::reject(const Admitted& a, const Error& err, const Event* e) {
  const Record& r = a.record;
  const std::string text = stored_json(rejection_json(r, a.pos, err, e));
  batch_.put_rejection(r.partition, a.pos, text);
  const bool duplicate = err.code == kDuplicateEvent;
  if (e && !duplicate) {
    batch_.put_outcome(r.partition, e->id,
                       stored_json({{"status", "rejected"},
                                    {"partition", r.partition},
                                    {"offset", a.pos},
                                    {"code", err.code},
                                    {"message", err.message}}));
  }
  rejections_.push_back({r.partition, a.pos, r.key, text});
  ++(duplicate ? n_dup_ : n_rejected_);
}

void BatchApplier::record_applied(const Admitted& a, const Event& e,
                                  const std::vector<std::string>& warnings) {
  const std::int32_t p = a.record.partition;
  take_report_day(p);
  clock_ = std::max({clock_, e.at, e.recorded_at});
  applied_ids_[p].insert(e.id);
  batch_.put_journal(p, a.pos, encode_binary(e));
  batch_.put_outcome(p, e.id, applied_outcome(p, a.pos, warnings));
  ++n_applied_;
}

// Time passes; nothing else changes. A tick may not run ahead of Kafka's
// own timestamp: the clock of every alert would jump with it.
void BatchApplier::apply_tick(const Admitted& a, const Event& e) {
  if (e.at > e.recorded_at + kMinute) {
    reject(a,
           make_error("implausible_tick",
                      "A clock tick dated after the time Kafka received it is refused."),
           &e);
    return;
  }
  record_applied(a, e);
}

// An alert's follow-up: the alert model records it (or refuses it: an alert
// that cleared meanwhile, an escalation after the acknowledgement).
void BatchApplier::apply_follow_up(const Admitted& a, const Event& e) {
  AlertModel& model = ctx_.follow_ups ? *ctx_.follow_ups : ctx_.alerts;
  if (auto s = model.follow_up(e); !s) {
    reject(a, s.error(), &e);
    return;
  }
  ++n_follow_ups_;
  record_applied(a, e);
}

Status BatchApplier::apply_reagent(const Admitted& a, const Event& e) {
  const std::int32_t p = a.record.partition;
  const DinKey lkey{p, reagent_lot_key(e.reagent, e.lot)};
  auto lot_it = touched_lots_.find(lkey);
  std::optional<ReagentLot> stored_lot;
  if (lot_it == touched_lots_.end()) {
    auto l = ctx_.store.reagent_lot(p, lkey.second);
    if (!l) return l.error();
    stored_lot = std::move(*l);
    lot_index_before_[lkey] =
        stored_lot ? reagent_index_entries(*stored_lot) : std::vector<IndexEntry>{};
  }
  const ReagentLot* lot_before =
      lot_it != touched_lots_.end() ? &lot_it->second : (stored_lot ? &*stored_lot : nullptr);
  auto lot_applied = apply_reagent_event(ctx_.ref, lot_before, e);
  if (!lot_applied) {
    reject(a, lot_applied.error(), &e);
    return {};
  }
  for (const auto& u : lot_applied->usage) {
    const auto ukey = std::make_pair(p, u.key);
    auto uit = usage_.find(ukey);
    if (uit == usage_.end()) {
      auto current = ctx_.store.reagent_usage(p, u.key);
      if (!current) return current.error();
      uit = usage_.emplace(ukey, *current).first;
    }
    uit->second += u.change;
    usage_deltas_.push_back(u);
  }
  touched_lots_[lkey] = std::move(lot_applied->after);
  count_event(ctx_.ref, e, nullptr, {}, report_[p]);
  record_applied(a, e);
  return {};
}

Status BatchApplier::apply_donation(const Admitted& a, const Event& e) {
  const std::int32_t p = a.record.partition;
  const DinKey key{p, e.din};
  auto found = touched_.find(key);
  bool exists = found != touched_.end();
  const bool loaded = !exists;
  if (loaded) {
    auto d = ctx_.store.donation(p, e.din);
    if (!d) return d.error();
    index_before_[key] = *d ? index_entries(**d) : std::vector<IndexEntry>{};
    exists = d->has_value();
    found = touched_.emplace(key, exists ? std::move(**d) : Donation{}).first;
  }
  // Applied in place (the projector's apply_event_in_place: the same rules
  // without copying the donation's history); a refusal changes nothing.
  Donation& donation = found->second;
  const std::vector<MarkerState> markers_before =
      e.type == EventType::test_resulted ? donation.markers : std::vector<MarkerState>{};
  auto applied = apply_event_in_place(ctx_.ref, ctx_.rules, donation, exists, e);
  if (!applied) {
    if (loaded) touched_.erase(found);
    reject(a, applied.error(), &e);
    return {};
  }
  for (const auto& delta : applied->stock) stock_change_[p].apply(delta);
  history_.record(p, e.at, a.pos, applied->stock, batch_);
  for (const auto& delta : applied->demand) {
    if (auto s = count_demand(p, delta); !s) return s;
  }
  if (!donation.donor.empty()) {
    auto share = donor_share(p, donation.donor);
    if (!share) return share.error();
    fold_donation(ctx_.ref, **share, markers_before, donation, e);
  }
  note_lookbacks(a, e, donation, markers_before);
  note_donor_check(a, e, donation);
  count_event(ctx_.ref, e, &donation, markers_before, report_[p]);
  record_applied(a, e, applied->warnings);
  return {};
}

Result<DonorRecord*> BatchApplier::donor_share(std::int32_t p, const std::string& donor) {
  const DinKey key{p, donor};
  auto it = touched_donors_.find(key);
  if (it == touched_donors_.end()) {
    auto stored = ctx_.store.donor(p, donor);
    if (!stored) return stored.error();
    it = touched_donors_.emplace(key, stored->value_or(DonorRecord{})).first;
  }
  return &it->second;
}

// DonorDeferred: into the share of the donor's own partition.
Status BatchApplier::apply_donor(const Admitted& a, const Event& e) {
  auto share = donor_share(a.record.partition, e.donor);
  if (!share) return share.error();
  DonorRecord updated = **share;
  if (auto s = apply_donor_event(ctx_.ref, updated, e); !s) {
    reject(a, s.error(), &e);
    return {};
  }
  **share = std::move(updated);
  record_applied(a, e);
  return {};
}

Status BatchApplier::count_demand(std::int32_t partition, const DemandDelta& delta) {
  const auto dkey = std::make_pair(partition, delta.key);
  auto it = demand_.find(dkey);
  if (it == demand_.end()) {
    auto current = ctx_.store.demand(partition, delta.key);
    if (!current) return current.error();
    it = demand_.emplace(dkey, *current).first;
  }
  it->second += delta.change;
  demand_deltas_.push_back(delta);
  return {};
}

// A marker with a lookback that now blocks the donation for good: the donor's
// earlier units are to be recalled (the engine's lookback outbox produces the
// recalls once committed). Each marker looks back once; a second, more urgent
// marker of the same donation looks back again with its own deadline.
void BatchApplier::note_lookbacks(const Admitted& a, const Event& e, const Donation& d,
                                  const std::vector<MarkerState>& markers_before) {
  if (e.type != EventType::test_resulted || d.donor.empty()) return;
  for (const auto& m : d.markers) {
    if (!blocks_for_good(m.status)) continue;
    const auto was = std::find_if(markers_before.begin(), markers_before.end(),
                                  [&](const MarkerState& b) { return b.test == m.test; });
    if (was != markers_before.end() && blocks_for_good(was->status)) continue;
    const TestDef* t = ctx_.ref.test(m.test);
    if (!t || t->lookback_hours <= 0) continue;
    const PendingLookback l{a.record.partition, e.din, d.donor,       m.test,
                            d.facility,         e.at,  d.collected_at};
    batch_.put_lookback(l);
    new_lookbacks_.push_back(l);
  }
}

// A collection: whether its donor was deferred is checked once committed
// (the donor's record may live in other partitions; the engine's donor-check
// outbox produces DeferredDonorCollected if so).
void BatchApplier::note_donor_check(const Admitted& a, const Event& e, const Donation& d) {
  if (e.type != EventType::donation_collected || d.donor.empty()) return;
  const PendingDonorCheck c{a.record.partition, e.din, d.donor, e.facility, e.at};
  batch_.put_donor_check(c);
  new_donor_checks_.push_back(c);
}

// Indexes change by difference; the alert model sees the same changes (it
// ignores the kinds it does not keep).
void BatchApplier::update_index(std::int32_t p, const std::vector<IndexEntry>& before,
                                const std::vector<IndexEntry>& after) {
  for (const auto& entry : before) {
    if (std::find(after.begin(), after.end(), entry) == after.end()) {
      batch_.delete_index(p, entry);
      ctx_.alerts.on_index(entry, false);
    }
  }
  for (const auto& entry : after) {
    if (std::find(before.begin(), before.end(), entry) == before.end()) {
      batch_.put_index(p, entry);
      ctx_.alerts.on_index(entry, true);
    }
  }
}

// ---- reports (projections/report_counters.h) --------------------------------

// Before an admitted event is applied: if it starts a new day in its
// partition, the stock as the partition's events left it is sampled for the
// days in between (kept by take_report_day() only if the event is applied).
Status BatchApplier::sample_report_day(std::int32_t p, const Event& e) {
  pending_samples_.clear();
  auto day = report_day_.find(p);
  if (day == report_day_.end()) {
    auto stored = ctx_.store.report_day(p);
    if (!stored) return stored.error();
    day = report_day_.emplace(p, *stored).first;
  }
  pending_day_ = day->second;
  if (day->second == 0 || day_of(e.at) <= day->second) {
    pending_day_ = std::max(day->second, day_of(e.at));
    return {};
  }
  auto stock = ctx_.store.stock(p);
  if (!stock) return stock.error();
  if (auto it = stock_change_.find(p); it != stock_change_.end()) stock->add(it->second);
  pending_day_ = advance_report_day(day->second, e, *stock, pending_samples_);
  return {};
}

void BatchApplier::take_report_day(std::int32_t p) {
  report_day_[p] = pending_day_;
  ReportCounts& counts = report_[p];
  for (const auto& [k, n] : pending_samples_) counts[k] += n;
  pending_samples_.clear();
}

// The counters' new values, read before the write phase (which cannot fail).
Status BatchApplier::read_report_values() {
  for (auto& [p, counts] : report_) {
    std::vector<std::string> keys;
    for (const auto& [k, n] : counts) {
      if (n != 0) keys.push_back(k);
    }
    if (keys.empty()) continue;
    auto current = ctx_.store.report_values(p, keys);
    if (!current) return current.error();
    for (std::size_t i = 0; i < keys.size(); ++i) counts[keys[i]] += (*current)[i];
  }
  return {};
}

void BatchApplier::write_report() {
  for (const auto& [p, values] : report_) {
    for (const auto& [k, n] : values) batch_.put_report(p, k, n);
  }
  for (const auto& [p, day] : report_day_) batch_.put_report_day(p, day);
}

std::map<std::int32_t, StockTable> BatchApplier::write_projections(
    const std::function<StockTable(std::int32_t)>& stock_before) {
  write_report();
  for (const auto& [key, lot] : touched_lots_) {
    batch_.put_reagent_lot(key.first, lot);
    ctx_.alerts.set_reagent_lot(lot);
    update_index(key.first, lot_index_before_[key], reagent_index_entries(lot));
  }
  for (const auto& [ukey, count] : usage_) batch_.put_reagent_usage(ukey.first, ukey.second, count);
  for (const auto& u : usage_deltas_) ctx_.alerts.on_reagent_usage(u.key, u.change);
  write_donations();
  for (const auto& [dkey, count] : demand_) batch_.put_demand(dkey.first, dkey.second, count);
  for (const auto& [key, share] : touched_donors_) {
    if (!share.empty()) batch_.put_donor(key.first, key.second, encode_donor(share));
  }
  std::map<std::int32_t, StockTable> new_stock;
  for (const auto& [p, change] : stock_change_) {
    StockTable& table = new_stock[p];
    table = stock_before(p);
    for (const auto& [k, n] : change.cells()) {
      table.apply(StockDelta{k, n});
      batch_.put_stock(p, k, table.count(k));
    }
  }
  return new_stock;
}

// Encoding a touched donation and listing its index entries is pure: a
// large batch's donations are encoded on every core, then put in key order.
void BatchApplier::write_donations() {
  struct Encoded {
    const DinKey* key;
    const Donation* donation;
    std::string bytes;
    std::vector<IndexEntry> index;
  };
  std::vector<Encoded> encoded;
  encoded.reserve(touched_.size());
  for (const auto& [key, d] : touched_) encoded.push_back({&key, &d, {}, {}});
  for_each_item_on_cores(encoded.size(), kEncodeOnCoresFrom, [&](std::size_t k) {
    encoded[k].bytes = encode_donation(*encoded[k].donation);
    encoded[k].index = index_entries(*encoded[k].donation);
  });
  for (const auto& e : encoded) {
    batch_.put_donation(e.key->first, e.key->second, e.bytes);
    update_index(e.key->first, index_before_[*e.key], e.index);
  }
}

void BatchApplier::advance_alert_clock() { ctx_.alerts.advance_clock(clock_); }

std::vector<AlertChange> BatchApplier::evaluate_alerts(const AlertState& prior,
                                                       std::uint64_t forwarded) {
  AlertModel& alerts = ctx_.alerts;
  for (const auto& [p, change] : stock_change_) {
    for (const auto& [k, n] : change.cells()) alerts.on_stock(k, n);
  }
  for (const auto& d : demand_deltas_) alerts.on_demand(d.key, d.change);
  std::vector<AlertChange> changes = alerts.evaluate();
  state_ = AlertState{alerts.seq(), alerts.clock(), prior.batch + 1};
  put_alert_outcome(batch_, alerts, changes, state_, forwarded, ctx_.ref);
  batch_.put_batch_end(state_.batch, batch_ends_);
  return changes;
}

}  // namespace hemoledger
