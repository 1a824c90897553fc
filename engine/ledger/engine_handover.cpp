// The Engine's side of partition handover (docs/scale-out.md, "Handover from
// a snapshot"): a partition assigned without its history is installed from
// the newest usable snapshot (engine/scaleout/partition_snapshots.h) and its
// in-memory state loaded from the store as at a start; consumption then
// resumes at the snapshot's offset, so only the tail is replayed. The served
// partitions are told to the snapshot publisher between batches, and those
// that moved since their newest snapshot get a last one at a clean stop.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "engine/ledger/engine.h"
#include "engine/ledger/metrics.h"

namespace hemoledger {

// Runs inside start_offsets (the consumer's rebalance, on the apply thread),
// so that the offsets it returns start each installed partition at its
// snapshot. A partition whose history this store holds (a restart, or the
// group giving back what it just took) is not touched.
void Engine::install_snapshots(const std::vector<std::int32_t>& assigned) {
  for (auto p : assigned) {
    {
      MutexLock lock(mu_);
      if (next_.count(p)) continue;
    }
    SnapshotInstall r;
    if (!options_.snapshots.enabled()) {
      r.reason = "snapshots are off (no --snapshot-dir)";
    } else {
      const auto start = std::chrono::steady_clock::now();
      r = install_latest_snapshot(*store_, p, options_.snapshots.dir, cluster_id_,
                                  options_.data_dir + "/snapshot-incoming");
      if (r.installed) {
        if (auto s = load_partition(p); !s) {
          r.installed = false;
          r.reason = "the snapshot at offset " + std::to_string(r.manifest.offset) +
                     " was installed but cannot be read back: " + s.error().message;
          Store::Batch b;
          b.drop_partition(p);
          if (auto d = store_->commit(b); !d) {
            spdlog::error("snapshots: partition {}: cannot clear it again: {}", p,
                          d.error().message);
          }
        } else {
          spdlog::info(
              "snapshots: partition {} installed from {} (offset {}, {} keys, by {}) in {} ms; "
              "replaying only the tail from Kafka",
              p, r.manifest.file, r.manifest.offset, r.manifest.keys, r.manifest.instance,
              micros_since(start) / 1000);
        }
      }
    }
    if (!r.installed) {
      spdlog::warn("snapshots: partition {} is replayed from offset 0: {}", p, r.reason);
    }
    MutexLock lock(mu_);
    restores_[p] = std::move(r);
  }
}

// What load() and load_alert_model() read at a start, for one partition that
// was just installed: every read first, so that a failure changes nothing in
// memory.
Status Engine::load_partition(std::int32_t p) {
  auto offsets = store_->offsets();
  if (!offsets) return offsets.error();
  auto offset = offsets->find(p);
  if (offset == offsets->end() || offset->second.cluster_id != cluster_id_) {
    return make_error("snapshot_offset", "the installed state has no offset of this cluster");
  }
  auto stock = store_->stock(p);
  auto forwarded = store_->forwarded(p);
  const std::int64_t first_day = alerts_->first_needed_day();
  constexpr std::int64_t kLast = std::numeric_limits<std::int64_t>::max();
  auto demand = store_->demand_window(first_day, kLast, p);
  auto index = store_->index_in(p);
  auto lots = store_->reagent_lots(p);
  auto usage = store_->reagent_usage_window(first_day, kLast, p);
  if (!stock) return stock.error();
  if (!forwarded) return forwarded.error();
  if (!demand) return demand.error();
  if (!index) return index.error();
  if (!lots) return lots.error();
  if (!usage) return usage.error();

  for (const auto& [k, n] : stock->cells()) alerts_->on_stock(k, n);
  for (const auto& [k, n] : *demand) alerts_->on_demand(k, n);
  for (const auto& e : *index) {
    if (std::find(std::begin(kAlertIndexKinds), std::end(kAlertIndexKinds), e.kind) !=
        std::end(kAlertIndexKinds)) {
      alerts_->on_index(e, true);
    }
  }
  for (const auto& lot : *lots) alerts_->set_reagent_lot(lot);
  for (const auto& [k, n] : *usage) alerts_->on_reagent_usage(k, n);
  publish_stock([&](StockTable& total) { total.add(*stock); });
  rejections_.adopt(p, *forwarded);
  lookbacks_.rescan();  // the partition's pending lookbacks and donor checks are ours now
  donor_checks_.rescan();
  {
    MutexLock lock(mu_);
    next_[p] = offset->second.next;
    base_[p] = offset->second.base;
    partition_stock_[p] = std::move(*stock);
    partials_dirty_.insert(p);
  }
  if (auto s = rejections_.forward_stored(p); !s) {
    spdlog::warn("snapshots: partition {}: rejections not forwarded yet: {}", p, s.error().message);
  }
  return {};
}

std::map<std::int32_t, std::int64_t> Engine::snapshot_partitions() const {
  std::map<std::int32_t, std::int64_t> served;
  MutexLock lock(mu_);
  for (const auto& [p, next] : next_) {
    if (!scale_out() || (owned_.count(p) && !restore_target_.count(p))) served[p] = next;
  }
  return served;
}

void Engine::feed_snapshots() {
  if (snapshots_) snapshots_->serving(snapshot_partitions());
}

// A clean stop, after the last commit: the served partitions that moved
// since their newest snapshot get one more, so that their next owner
// installs it and replays no tail (docs/scale-out.md).
void Engine::final_snapshots() {
  if (!snapshots_) return;
  const auto start = std::chrono::steady_clock::now();
  auto served = snapshot_partitions();
  spdlog::info("snapshots: writing the last snapshots of {} partition(s) before stopping",
               served.size());
  snapshots_->finish(std::move(served));
  spdlog::info("snapshots: last snapshots done in {} ms", micros_since(start) / 1000);
}

}  // namespace hemoledger
