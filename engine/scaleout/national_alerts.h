// NationalAlerts: the alert model of a scale-out group (docs/scale-out.md),
// fed with every partition's published share of the picture (partials.h's
// StockRecord) instead of one engine's batches.
//
//   NationalAlerts n(ref, supply);
//   n.restore(open, seq, clock);          // where the last leader stopped
//   n.update(view.records());             // the differences since the last update
//   for (const AlertChange& c : n.evaluate()) ...;
//
// Pure: it reads no clock and no Kafka; the engine of the alert leader (the
// instance serving the partition of the follow-up events' key "alerts")
// calls it and commits what it returns. A
// partition's inputs are replaced as a whole by its latest record, so a
// record seen twice changes nothing.
#pragma once

#include <map>
#include <vector>

#include "engine/scaleout/partials.h"
#include "projections/alerts.h"

namespace hemoledger {

class NationalAlerts {
 public:
  NationalAlerts(const ReferenceData& ref, SupplyConfig config) : model_(ref, std::move(config)) {}
  void restore(std::map<std::string, Alert> open, std::uint64_t seq, TimeMs clock) {
    model_.restore(std::move(open), seq, clock);
  }
  // Feeds the model what changed in each partition's record since the last
  // update, and moves its clock to the latest of the partitions' clocks.
  void update(const std::map<std::int32_t, StockRecord>& records);
  std::vector<AlertChange> evaluate() { return model_.evaluate(); }
  const AlertModel& model() const { return model_; }
  // The model the leader's apply loop records follow-up events in
  // (acknowledged, escalated, closed); evaluate() then gives their changes.
  AlertModel& model_for_follow_ups() { return model_; }

 private:
  AlertModel model_;
  std::map<std::int32_t, StockRecord> fed_;
};

}  // namespace hemoledger
