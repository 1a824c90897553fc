#include "engine/ledger/outbox.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "engine/ledger/batch_applier.h"
#include "engine/ledger/metrics.h"
#include "engine/scaleout/partials.h"
#include "engine/storage/stored_json.h"
#include "events/binary_codec.h"
#include "projections/report_counters.h"

namespace hemoledger {

namespace {

// An outbox's next round: every stored item at the start and after a failure
// (`scan`, which this clears), otherwise those the batches since added
// (`fresh`, emptied). Scanning the stored keys every round would also walk
// the tombstones of every item already done, which grow with history.
template <class T, class LoadStored>
Result<std::vector<T>> next_round(bool& scan, std::vector<T>& fresh, LoadStored load_stored) {
  std::vector<T> round;
  if (scan) {
    auto stored = load_stored();
    if (!stored) return stored.error();
    round = std::move(*stored);
    scan = false;
  } else {
    round = std::move(fresh);
  }
  fresh.clear();
  return round;
}

}  // namespace

using nlohmann::json;

void put_alert_outcome(Store::Batch& batch, const AlertModel& model,
                       const std::vector<AlertChange>& changes, const AlertState& state,
                       std::uint64_t cursor, const ReferenceData& ref) {
  for (const auto& key : model.dirty()) {
    auto it = model.open().find(key);
    if (it == model.open().end())
      batch.delete_open_alert(key);
    else
      batch.put_open_alert(key, stored_json(alert_json(it->second, ref)));
  }
  for (const auto& c : changes) {
    batch.put_alert_change(c.seq, stored_json(change_json(c, ref)));
    for (const auto& [key, row] : alert_report_rows(c)) batch.put_alert_report(key, row);
  }
  batch.put_alert_state(state);
  batch.put_alert_cursor("kafka", cursor);
}

// ---------------------------------------------------------------------------
// Rejections

RejectionOutbox::RejectionOutbox(Store& store, Producer* producer, std::string topic,
                                 EngineMetrics& metrics)
    : store_(store), producer_(producer), topic_(std::move(topic)), metrics_(metrics) {}

Status RejectionOutbox::load() {
  for (auto p : store_.partitions()) {
    auto f = store_.forwarded(p);
    if (!f) return f.error();
    next_[p] = *f;
  }
  return {};
}

void RejectionOutbox::put_cursors(Store::Batch& batch) const {
  for (const auto& [p, off] : next_) batch.put_forwarded(p, off);
}

// Rejections are durable already; forwarding them is at-least-once: the
// marker moves in the next commit, and a restart forwards what is left.
void RejectionOutbox::forward(const std::vector<PendingRejection>& rejections) {
  if (!producer_) return;
  for (const auto& rej : rejections) {
    if (auto s = producer_->produce(topic_, rej.key, rej.json); !s) {
      spdlog::warn("cannot forward a rejection: {}", s.error().message);
      break;
    }
    next_[rej.partition] = rej.offset + 1;
    ++metrics_.forwarded_rejections;
  }
}

void RejectionOutbox::drop(const std::set<std::int32_t>& partitions) {
  for (auto p : partitions) next_.erase(p);
}

Status RejectionOutbox::forward_stored(std::optional<std::int32_t> only) {
  if (!producer_) return {};
  bool any = false;
  for (auto p : only ? std::vector<std::int32_t>{*only} : store_.partitions()) {
    auto from = next_[p];
    auto s = store_.scan_rejections(p, from, [&](std::int64_t off, std::string_view v) {
      json j = json::parse(v, nullptr, false);
      const std::string key = j.is_object() ? j.value("din", "") : "";
      if (!producer_->produce(topic_, key, v)) return false;
      next_[p] = off + 1;
      any = true;
      return true;
    });
    if (!s) return s;
  }
  if (!any) return {};
  Store::Batch b;
  put_cursors(b);
  return store_.commit(b);
}

// ---------------------------------------------------------------------------
// Alert changes

AlertOutbox::AlertOutbox(const Store& store, Producer* producer, std::string topic,
                         EngineMetrics& metrics, const AlertRouting* routing)
    : store_(store),
      producer_(producer),
      topic_(std::move(topic)),
      metrics_(metrics),
      routing_(routing) {}

Status AlertOutbox::load() {
  auto cursor = store_.alert_cursor("kafka");
  if (!cursor) return cursor.error();
  forwarded_ = std::max<std::uint64_t>(*cursor, 1);
  return {};
}

// At least once: the cursor moves only past changes Kafka has acknowledged,
// and is stored with the next commit. Sent changes are not waited for: the
// next call moves the cursor once Kafka has them all, or sends them again
// after a failure.
Status AlertOutbox::send() {
  if (!producer_) return {};
  if (delivery_) {
    if (!delivery_->settled()) return {};
    const bool failed = delivery_->failed();
    delivery_.reset();
    if (failed) {
      return make_error("kafka_unavailable", "alert changes could not be delivered yet; retrying");
    }
    if (sending_ > forwarded_) {
      metrics_.alerts_forwarded += sending_ - forwarded_;
      forwarded_ = sending_;
    }
  }
  if (committed_.load() < forwarded_) return {};
  std::optional<Error> failure;
  std::uint64_t next = forwarded_;
  auto tracker = std::make_shared<DeliveryTracker>();
  auto s = store_.scan_alert_changes(forwarded_, [&](std::uint64_t seq, std::string_view v) {
    const json j = json::parse(v, nullptr, false);
    const std::string key = j.is_object() ? j["alert"].value("key", "") : "";
    const bool routed = routing_ && !routing_->empty() && j.is_object();
    const std::string text = routed ? routed_change(j, *routing_).dump() : std::string(v);
    if (auto p = producer_->produce(topic_, key, text, tracker); !p) {
      failure = p.error();
      return false;
    }
    next = seq + 1;
    return next - forwarded_ < 10000;
  });
  if (next != forwarded_) {
    delivery_ = std::move(tracker);
    sending_ = next;
  }
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

// ---------------------------------------------------------------------------
// Lookbacks

LookbackOutbox::LookbackOutbox(const Store& store, const ReferenceData& ref, Producer* producer,
                               const KafkaConfig& kafka, const PartialsView* view,
                               std::function<bool(std::int32_t)> serves, EngineMetrics& metrics)
    : store_(store),
      ref_(ref),
      producer_(producer),
      kafka_(kafka),
      view_(view),
      serves_(std::move(serves)),
      metrics_(metrics) {}

void LookbackOutbox::committed(const std::vector<PendingLookback>& fresh) {
  done_keys_.clear();
  new_.insert(new_.end(), fresh.begin(), fresh.end());
}

void LookbackOutbox::put_deletions(Store::Batch& batch) const {
  for (const auto& [p, din, test] : done_keys_) batch.delete_lookback(p, din, test);
}

// For a pending lookback: the same donor's earlier donations, wherever they
// are, and their units that were in date when the positive result came and
// are not yet discarded or expired, or that were transfused, get a
// UnitRecalled through Kafka; a unit already recalled only when this marker's
// deadline is earlier than its open recall's. In every partition stored here
// (`served_only`: only those served).
Status LookbackOutbox::recall_earlier_units(const PendingLookback& l, bool served_only,
                                            const std::shared_ptr<DeliveryTracker>& tracker) {
  auto earlier = store_.donations_of(l.donor);
  if (!earlier) return earlier.error();
  for (const auto& [p, dd] : *earlier) {
    if (dd.din == l.din || dd.collected_at >= l.collected_at) continue;
    if (served_only && !serves_(p)) continue;
    auto d = store_.donation(p, dd.din);
    if (!d) return d.error();
    if (!d->has_value()) continue;
    const TestDef* t = ref_.test(l.test);
    const TimeMs deadline = l.at + (t ? t->lookback_hours : 0) * kHour;
    for (const auto& u : (*d)->units) {
      const bool transfused = u.status == UnitStatus::transfused;
      if ((is_final(u.status) && !transfused) || (!transfused && u.expires_at <= l.at)) continue;
      const Recall* r = (*d)->recall(u.product);
      if (r && (!r->open || deadline >= r->deadline)) continue;
      Event e = recall_event(dd.din, u.product, l.facility, l.test, l.din, l.at);
      if (r) e.id += "-" + l.test;  // a more urgent marker: its own recall event
      if (served_only && recalls_sent_.count(e.id)) continue;  // still on its way
      if (auto s = producer_->produce(kafka_.events_topic, e.din, encode_binary(e), tracker); !s) {
        return s;
      }
      recalls_sent_.insert(e.id);
      ++metrics_.recalls_produced;
    }
  }
  return {};
}

// Scale-out: the donor's other donations may live in partitions served by
// other instances; each instance answers the requests in the partials topic
// for what it serves (again after a restore: recall ids make it idempotent).
Status LookbackOutbox::answer_requests() {
  if (!view_) return {};
  const auto requests = view_->lookbacks(requests_done_);
  for (const auto& l : requests) {
    if (auto s = recall_earlier_units(l, true, nullptr); !s) return s;
  }
  requests_done_ += requests.size();
  return {};
}

// The last round's recalls (or requests) are done once Kafka has them all.
// Their records go with the next commit (the batch's or the idle loop's), not
// a synced write of their own; a crash before that runs them again, which
// recall ids make harmless.
Status LookbackOutbox::settle_last_round(bool& settled) {
  settled = true;
  if (!delivery_) return {};
  if (!delivery_->settled()) {
    settled = false;
    return {};
  }
  const bool failed = delivery_->failed();
  delivery_.reset();
  std::vector<PendingLookback> sent = std::move(sending_);
  sending_.clear();
  if (failed) {
    scan_ = true;  // run again: recall ids make repeats harmless
    return make_error("kafka_unavailable", "lookback recalls could not be delivered yet; retrying");
  }
  for (const auto& l : sent) done_keys_.emplace_back(l.partition, l.din, l.test);
  spdlog::info("lookback: {} positive screen(s) looked back", sent.size());
  return {};
}

Status LookbackOutbox::send() {
  if (!producer_) return {};
  if (auto s = answer_requests(); !s) return s;
  bool settled = false;
  if (auto s = settle_last_round(settled); !s || !settled) return s;
  if (!scan_ && new_.empty()) return {};
  auto next = next_round(scan_, new_, [this] { return store_.pending_lookbacks(); });
  if (!next) return next.error();
  std::vector<PendingLookback> round = std::move(*next);
  if (round.empty()) return {};
  auto tracker = std::make_shared<DeliveryTracker>();
  for (const auto& l : round) {
    Status s = view_ ? producer_->produce_to(kafka_.partials_topic, l.partition,
                                             partials_key_lookback(l), encode_lookback(l), tracker)
                     : recall_earlier_units(l, false, tracker);
    if (!s) {
      scan_ = true;
      return s;  // what was queued is delivered or not; the round runs again in full
    }
  }
  delivery_ = std::move(tracker);
  sending_ = std::move(round);
  return {};
}

// ---------------------------------------------------------------------------
// Donor checks

DonorCheckOutbox::DonorCheckOutbox(const Store& store, const ReferenceData& ref, Producer* producer,
                                   std::string events_topic)
    : store_(store), ref_(ref), producer_(producer), topic_(std::move(events_topic)) {}

void DonorCheckOutbox::committed(const std::vector<PendingDonorCheck>& fresh) {
  done_.clear();
  new_.insert(new_.end(), fresh.begin(), fresh.end());
}

void DonorCheckOutbox::put_deletions(Store::Batch& batch) const {
  for (const auto& [p, din] : done_) batch.delete_donor_check(p, din);
}

// Each collection's donor, judged on the record of every partition stored
// here at the collection's time (the donation itself left out): a deferred
// donor's collection gets DeferredDonorCollected through Kafka. A check is
// done (its record deleted with the next commit) once Kafka has that event,
// or at once when the donor was not deferred. A failed send runs the stored
// checks again; the event's id makes repeats harmless.
Status DonorCheckOutbox::send() {
  if (!producer_) return {};
  if (delivery_) {
    if (!delivery_->settled()) return {};
    const bool failed = delivery_->failed();
    delivery_.reset();
    std::vector<PendingDonorCheck> sent = std::move(sending_);
    sending_.clear();
    if (failed) {
      scan_ = true;
      return make_error("kafka_unavailable", "donor checks could not be delivered yet; retrying");
    }
    for (const auto& c : sent) done_.emplace_back(c.partition, c.din);
  }
  if (!scan_ && new_.empty()) return {};
  auto next = next_round(scan_, new_, [this] { return store_.pending_donor_checks(); });
  if (!next) return next.error();
  const std::vector<PendingDonorCheck> round = std::move(*next);
  auto tracker = std::make_shared<DeliveryTracker>();
  std::vector<PendingDonorCheck> produced;
  for (const auto& c : round) {
    auto donor = store_.donor_everywhere(c.donor);
    if (!donor) {
      scan_ = true;
      return donor.error();
    }
    const DonorStatus s = donor_status(ref_, *donor, c.at, c.din);
    if (!s.deferred) {
      done_.emplace_back(c.partition, c.din);
      continue;
    }
    const Event e = deferred_collection_event(c.din, c.donor, c.facility, s.reason, s.until, c.at);
    if (auto p = producer_->produce(topic_, e.din, encode_binary(e), tracker); !p) {
      scan_ = true;
      return p;
    }
    spdlog::warn("donor check: donation {} was collected from donor {}, {}", c.din, c.donor,
                 describe(s));
    produced.push_back(c);
  }
  if (!produced.empty()) {
    delivery_ = std::move(tracker);
    sending_ = std::move(produced);
  }
  return {};
}

}  // namespace hemoledger
