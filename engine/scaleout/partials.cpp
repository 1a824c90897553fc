#include "engine/scaleout/partials.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace hemoledger {

using nlohmann::json;

json freshness_json(const NationalStock& n) {
  json parts = json::array();
  for (const auto& f : n.partitions) {
    parts.push_back({{"partition", f.partition},
                     {"source", f.source},
                     {"owner", f.owner},
                     {"counted_from", f.counted_from},
                     {"restoring", f.restoring},
                     {"next_offset", f.next_offset},
                     {"owner_offset", f.owner_offset},
                     {"age_ms", f.age_ms}});
  }
  return {{"complete", n.complete}, {"oldest_ms", n.oldest_ms}, {"partitions", std::move(parts)}};
}

void PartialsView::apply(const Record& r) {
  auto m = decode_partials(r.key, r.value);
  if (!m) {
    spdlog::warn("partials: ignoring the message at {}/{}: {}", r.partition, r.offset,
                 m.error().message);
    return;
  }
  ++messages_;
  std::lock_guard lock(mu_);
  if (m->alerts) {
    if (!alerts_ || m->alerts->seq >= alerts_->seq) alerts_ = std::move(*m->alerts);
  } else if (m->lookback) {
    if (lookback_keys_.insert(r.key).second) lookbacks_.push_back(std::move(*m->lookback));
  } else if (m->owner) {
    owners_[m->owner->partition] = std::move(*m->owner);
  } else if (m->stock) {
    const std::int32_t p = m->stock->partition;
    // A zombie owner (one the group has already replaced) must not roll the
    // counts back: counts from another instance than the current owner are
    // taken only if they are further on.
    auto cur = stock_.find(p);
    auto own = owners_.find(p);
    const bool from_owner = own != owners_.end() && own->second.instance == m->stock->instance;
    if (cur == stock_.end() || from_owner || m->stock->next_offset >= cur->second.next_offset) {
      stock_[p] = std::move(*m->stock);
      ++version_;
    }
  }
}

void PartialsView::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    auto reader = TopicReader::create(config_, config_.partials_topic, 2000);
    if (!reader) {
      spdlog::debug("partials: {}; retrying", reader.error().message);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    spdlog::info("partials: reading {}", config_.partials_topic);
    while (!stop.load()) {
      auto batch = (*reader)->poll_batch(1000, 100);
      if (!batch) {
        spdlog::warn("partials: {}", batch.error().message);
        break;
      }
      for (const auto& r : *batch) apply(r);
    }
  }
}

std::optional<OwnerRecord> PartialsView::owner(std::int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = owners_.find(partition);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

std::vector<PendingLookback> PartialsView::lookbacks(std::size_t from) const {
  std::lock_guard lock(mu_);
  if (from >= lookbacks_.size()) return {};
  return {lookbacks_.begin() + static_cast<std::ptrdiff_t>(from), lookbacks_.end()};
}

std::map<std::int32_t, StockRecord> PartialsView::records(std::uint64_t* version) const {
  std::lock_guard lock(mu_);
  if (version) *version = version_;
  return stock_;
}

std::optional<AlertsRecord> PartialsView::alerts() const {
  std::lock_guard lock(mu_);
  return alerts_;
}

std::map<std::int32_t, OwnerRecord> PartialsView::owners() const {
  std::lock_guard lock(mu_);
  return owners_;
}

NationalStock PartialsView::national(const std::map<std::int32_t, StockTable>& local,
                                     const std::map<std::int32_t, std::int64_t>& local_offsets,
                                     std::int32_t partitions, TimeMs now) const {
  NationalStock out;
  std::lock_guard lock(mu_);
  for (std::int32_t p = 0; p < partitions; ++p) {
    PartitionFreshness f;
    f.partition = p;
    auto own = owners_.find(p);
    if (own != owners_.end()) {
      f.owner = own->second.instance;
      f.restoring = own->second.restoring;
      f.owner_offset = own->second.next_offset;
    }
    if (auto it = local.find(p); it != local.end()) {
      out.stock.add(it->second);
      f.source = "local";
      auto off = local_offsets.find(p);
      f.next_offset = off == local_offsets.end() ? 0 : off->second;
    } else if (auto st = stock_.find(p); st != stock_.end()) {
      out.stock.add(st->second.stock);
      f.source = "partials";
      f.counted_from = st->second.instance;
      f.next_offset = st->second.next_offset;
      f.age_ms = std::max<TimeMs>(0, now - st->second.published_at);
      out.oldest_ms = std::max(out.oldest_ms, f.age_ms);
    } else {
      f.source = "missing";
      out.complete = false;
    }
    out.partitions.push_back(std::move(f));
  }
  return out;
}

}  // namespace hemoledger
