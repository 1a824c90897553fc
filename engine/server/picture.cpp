#include "engine/server/picture.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "engine/kafka/kafka.h"
#include "engine/server/api.h"

namespace hemoledger {

namespace {

// The units available at a facility: those of the local partitions from the
// store, the others from their published index, soonest expiry first.
Result<std::vector<AvailableUnit>> available_at(const Picture& pic, const Engine& e,
                                                const std::string& facility) {
  auto mine = e.store().available_at(facility);
  if (!mine) return mine.error();
  std::vector<AvailableUnit> out;
  for (auto& u : *mine) {
    if (pic.local.count(partition_for_key(u.din, e.partition_count()))) {
      out.push_back(std::move(u));
    }
  }
  for (const auto& [p, r] : pic.remote) {
    for (const auto& ix : r.index) {
      if (ix.kind != 'a') continue;
      auto u = parse_available(ix.key, ix.value);
      if (u && u->facility == facility) out.push_back(std::move(*u));
    }
  }
  std::sort(out.begin(), out.end(), [](const AvailableUnit& a, const AvailableUnit& b) {
    return std::tie(a.expires_at, a.din, a.product) < std::tie(b.expires_at, b.din, b.product);
  });
  return out;
}

Result<std::vector<ReagentLot>> reagent_lots(const Picture& pic, const Engine& e) {
  std::vector<ReagentLot> out;
  for (auto p : pic.local) {
    auto lots = e.store().reagent_lots(p);
    if (!lots) return lots.error();
    for (auto& lot : *lots) out.push_back(std::move(lot));
  }
  for (const auto& [p, r] : pic.remote) {
    for (const auto& [key, lot] : r.lots) out.push_back(lot);
  }
  return out;
}

// A per-day count summed over the picture for days in [from, to): the local
// partitions' from the store (read_store(from, to, partition)), the others'
// from their published records (published(record)).
template <typename Key, typename ReadStore, typename Published>
Result<std::map<Key, std::int64_t>> window_sum(const Picture& pic, std::int64_t from,
                                               std::int64_t to, ReadStore read_store,
                                               Published published) {
  std::map<Key, std::int64_t> out;
  for (auto p : pic.local) {
    auto counts = read_store(from, to, p);
    if (!counts) return counts.error();
    for (const auto& [k, n] : *counts) out[k] += n;
  }
  for (const auto& [p, r] : pic.remote) {
    for (const auto& [k, n] : published(r)) {
      if (k.day >= from && k.day < to) out[k] += n;
    }
  }
  return out;
}

// Points the picture's source at its own records and the engine's store.
void wire_national_source(Picture& pic, const Engine& e) {
  const Picture* raw = &pic;
  const Engine* engine = &e;
  pic.source.available_at = [raw, engine](const std::string& facility) {
    return available_at(*raw, *engine, facility);
  };
  pic.source.reagent_lots = [raw, engine] { return reagent_lots(*raw, *engine); };
  pic.source.reagent_usage_window = [raw, engine](std::int64_t from, std::int64_t to) {
    return window_sum<ReagentUsageKey>(
        *raw, from, to,
        [engine](std::int64_t f, std::int64_t t, std::int32_t p) {
          return engine->store().reagent_usage_window(f, t, p);
        },
        [](const StockRecord& r) -> const auto& { return r.usage; });
  };
  pic.source.demand_window = [raw, engine](std::int64_t from, std::int64_t to) {
    return window_sum<DemandKey>(
        *raw, from, to,
        [engine](std::int64_t f, std::int64_t t, std::int32_t p) {
          return engine->store().demand_window(f, t, p);
        },
        [](const StockRecord& r) -> const auto& { return r.demand; });
  };
}

}  // namespace

std::unique_ptr<Picture> picture_of(const ApiContext& ctx) {
  auto pic = std::make_unique<Picture>();
  const Engine* e = ctx.engine;
  if (!e->scale_out() || !e->partials()) {
    pic->source = store_picture(e->store());
    pic->stock = e->stock();
    return pic;
  }
  std::map<std::int32_t, std::int64_t> offsets;
  const auto served = e->served_stock(&offsets);
  auto national = e->partials()->national(served, offsets, e->partition_count(), e->clock().now());
  for (auto& part : national.partitions) {
    if (part.source == "local") part.counted_from = e->instance();
  }
  auto records = e->partials()->records();
  for (const auto& part : national.partitions) {
    if (part.source == "local") pic->local.insert(part.partition);
    if (part.source == "partials") pic->remote[part.partition] = std::move(records[part.partition]);
  }
  pic->stock = national.stock;
  pic->national = std::move(national);
  wire_national_source(*pic, *e);
  return pic;
}

void add_freshness(nlohmann::json& body, const Picture& pic, const ApiContext& ctx) {
  if (!pic.national) return;
  body["freshness"] = freshness_json(*pic.national);
  body["instance"] = ctx.engine->instance();
}

}  // namespace hemoledger
