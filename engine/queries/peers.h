// Peers: what one instance of a scale-out group asks another
// (docs/scale-out.md), for the lab gateway: the verdict of an event it
// produced into a partition another instance serves (it must not acknowledge
// a result before it is durably recorded), and the donation as recorded
// there (for the release policy).
//
//   auto v = await_verdict(engine, peer_token, partition, offset, deadline);
//   auto d = donation_anywhere(engine, peer_token, din);
//
// Served here (or in single-instance mode): waits for this engine's commit.
// Served elsewhere: asks the owner's GET /api/verdict (with `peer_token` as
// its bearer token when the group uses tokens) until it has one or the
// deadline passes. nullopt at the deadline: not recorded yet, as far as we
// know. Thread-safe; blocks the calling thread only.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "engine/ledger/engine.h"
#include "engine/ledger/verdict.h"

namespace hemoledger {

[[nodiscard]] Result<std::optional<Verdict>> await_verdict(
    const Engine& engine, const std::string& peer_token, std::int32_t partition,
    std::int64_t offset, std::chrono::steady_clock::time_point deadline);

// The donation as the instance serving its partition holds it (this store in
// single-instance mode or when served here); nullopt if it knows none.
[[nodiscard]] Result<std::optional<Donation>> donation_anywhere(const Engine& engine,
                                                                const std::string& peer_token,
                                                                const std::string& din);

// A verdict as GET /api/verdict sends it: {"status", "code", "message"}, the
// status as engine/ledger/verdict.h writes it; bad_verdict when it is not one.
nlohmann::json verdict_json(const Verdict& v);
[[nodiscard]] Result<Verdict> verdict_from_json(const nlohmann::json& j);

}  // namespace hemoledger
