// The stock picture that /api/stock, pick, supply, expiring and reagents
// read: this instance's store, or in scale-out the national picture, that is
// the partitions served here read from the store and every other one from its
// owner's last published record (engine/scaleout/partials.h), with the
// freshness of each share.
//
//   const auto pic = picture_of(ctx);
//   auto j = supply_json(pic->source, pic->stock, ...);
//   add_freshness(*j, *pic, ctx);
//
// A Picture is a snapshot taken for one request: its source's functions read
// the snapshot's records and the store, and must not outlive the Picture
// (they point into it, which is why it is handed out in a unique_ptr).
// Internal to engine/server/. Threading: one Picture per request thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "engine/queries/queries.h"
#include "engine/scaleout/partials.h"

namespace hemoledger {

struct ApiContext;

struct Picture {
  PictureSource source;
  StockTable stock;
  std::optional<NationalStock> national;       // set in scale-out only
  std::set<std::int32_t> local;                // partitions read from the store
  std::map<std::int32_t, StockRecord> remote;  // the others, as published
};

// The picture as of now: the store's outside scale-out, the national one in it.
std::unique_ptr<Picture> picture_of(const ApiContext& ctx);

// Adds, in scale-out, how fresh each partition's share of the answer is
// ("freshness", and this "instance"); nothing outside scale-out.
void add_freshness(nlohmann::json& body, const Picture& pic, const ApiContext& ctx);

}  // namespace hemoledger
