#include "projections/partition_replay.h"

#include <algorithm>

namespace hemoledger {

PartitionReplay::PartitionReplay(const ReferenceData& ref, const Rules& rules, bool feeds_alerts,
                                 bool keep_history_events)
    : ref_(ref), rules_(rules), feeds_alerts_(feeds_alerts) {
  state_.history = StockHistory(/*sum_buckets=*/keep_history_events, keep_history_events);
}

Status PartitionReplay::apply(const Event& e, std::int64_t position) {
  // The day's stock sample is taken before the event, and kept only if the
  // event is applied (as the engine does).
  ReportCounts samples;
  const std::int64_t report_day = advance_report_day(state_.report_day, e, state_.stock, samples);
  if (auto s = apply_unsampled(e, position); !s) return s;
  state_.report_day = report_day;
  for (const auto& [k, n] : samples) {
    if ((state_.report[k] += n) == 0) state_.report.erase(k);
  }
  return {};
}

Status PartitionReplay::apply_unsampled(const Event& e, std::int64_t position) {
  ReportCounts counts;
  if (e.type == EventType::clock_ticked) {  // time passes; nothing else changes
  } else if (is_alert_event(e.type)) {      // for the alert model, at the next feed()
    if (feeds_alerts_) follow_ups_.push_back(e);
  } else if (is_donor_event(e.type)) {
    auto [it, inserted] = state_.donors.try_emplace(e.donor);
    if (auto s = apply_donor_event(ref_, it->second, e); !s) {
      if (inserted) state_.donors.erase(it);
      return s;
    }
  } else if (is_reagent_event(e.type)) {
    std::string key = reagent_lot_key(e.reagent, e.lot);
    auto it = state_.lots.find(key);
    const ReagentLot* before = it == state_.lots.end() ? nullptr : &it->second;
    auto applied = apply_reagent_event(ref_, before, e);
    if (!applied) return applied.error();
    if (feeds_alerts_ && !lot_index_before_.count(key)) {
      lot_index_before_.emplace(
          key, before ? reagent_index_entries(*before) : std::vector<IndexEntry>{});
    }
    for (const auto& u : applied->usage) {
      if ((state_.usage[u.key] += u.change) == 0) state_.usage.erase(u.key);
      if (feeds_alerts_) usage_changes_.push_back(u);
    }
    count_event(ref_, e, nullptr, {}, counts);
    if (it == state_.lots.end())
      state_.lots.emplace(std::move(key), std::move(applied->after));
    else
      it->second = std::move(applied->after);
  } else {
    auto [donation, inserted] = state_.donations.touch(e.din);
    if (feeds_alerts_ && !donation_index_before_.count(e.din)) {
      // Recorded before the event, dropped again if the projector refuses it.
      donation_index_before_.emplace(
          e.din, inserted ? std::vector<IndexEntry>{} : index_entries(*donation));
    }
    const std::vector<MarkerState> markers_before =
        e.type == EventType::test_resulted ? donation->markers : std::vector<MarkerState>{};
    auto changes = apply_event_in_place(ref_, rules_, *donation, !inserted, e);
    if (!changes) {
      if (inserted) {
        state_.donations.erase(e.din);
        if (feeds_alerts_) donation_index_before_.erase(e.din);
      }
      return changes.error();
    }
    if (const Donation& d = *donation; !d.donor.empty()) {
      auto [share, fresh] = state_.donors.try_emplace(d.donor);
      if (!fold_donation(ref_, share->second, markers_before, d, e) && fresh) {
        state_.donors.erase(share);
      }
    }
    for (const auto& d : changes->stock) {
      state_.stock.apply(d);
      if (feeds_alerts_) stock_change_.apply(d);
    }
    if (position >= 0) state_.history.record(e.at, position, changes->stock);
    for (const auto& d : changes->demand) {
      if ((state_.demand[d.key] += d.change) == 0) state_.demand.erase(d.key);
      if (feeds_alerts_) demand_changes_.push_back(d);
    }
    count_event(ref_, e, donation, markers_before, counts);
  }
  for (const auto& [k, n] : counts) {
    if ((state_.report[k] += n) == 0) state_.report.erase(k);
  }
  clock_ = std::max({clock_, e.at, e.recorded_at});
  ++state_.events;
  return {};
}

TimeMs PartitionReplay::feed(AlertModel& model) {
  auto update_index = [&](const std::vector<IndexEntry>& before,
                          const std::vector<IndexEntry>& after) {
    for (const auto& entry : before) {
      if (std::find(after.begin(), after.end(), entry) == after.end()) model.on_index(entry, false);
    }
    for (const auto& entry : after) {
      if (std::find(before.begin(), before.end(), entry) == before.end()) {
        model.on_index(entry, true);
      }
    }
  };
  for (const auto& [key, before] : lot_index_before_) {
    const ReagentLot& lot = state_.lots.at(key);
    model.set_reagent_lot(lot);
    update_index(before, reagent_index_entries(lot));
  }
  for (const auto& u : usage_changes_) model.on_reagent_usage(u.key, u.change);
  for (const auto& [din, before] : donation_index_before_) {
    update_index(before, state_.donations.index_entries_of(din));
  }
  for (const auto& e : follow_ups_) {
    if (!model.follow_up(e)) ++refused_follow_ups_;
  }
  follow_ups_.clear();
  for (const auto& [k, n] : stock_change_.cells()) model.on_stock(k, n);
  for (const auto& d : demand_changes_) model.on_demand(d.key, d.change);
  lot_index_before_.clear();
  donation_index_before_.clear();
  stock_change_ = StockTable{};
  demand_changes_.clear();
  usage_changes_.clear();
  const TimeMs clock = clock_;
  clock_ = 0;
  return clock;
}

}  // namespace hemoledger
