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
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/ledger/engine.h"
#include "engine/ledger/verdict.h"
#include "engine/queries/reports.h"

namespace hemoledger {

[[nodiscard]] Result<std::optional<Verdict>> await_verdict(
    const Engine& engine, const std::string& peer_token, std::int32_t partition,
    std::int64_t offset, std::chrono::steady_clock::time_point deadline);

// The donation as the instance serving its partition holds it (this store in
// single-instance mode or when served here); nullopt if it knows none.
[[nodiscard]] Result<std::optional<Donation>> donation_anywhere(const Engine& engine,
                                                                const std::string& peer_token,
                                                                const std::string& din);

// The `partitions` parameter of the peer requests below: "1,4,5", and back
// (nullopt if it is not such a list).
std::string partition_list(const std::vector<std::int32_t>& partitions);
std::optional<std::vector<std::int32_t>> parse_partition_list(const std::string& list);

// Stock at a past instant in scale-out (engine/queries/stock_at.h): each
// instance answers for the partitions it serves (GET /api/peer/stock?at=&
// partitions=) and the asking one sums. The body: {"at", "partitions":
// {"<p>": {"cells": {"<stock key>": count}, "replayed": bool}}, "not_served":
// [p...]}.
struct PartitionStockAt {
  StockTable stock;
  bool replayed = false;  // answered by a replay of its journal (no complete history)
};
nlohmann::json peer_stock_json(TimeMs at, const std::map<std::int32_t, PartitionStockAt>& served,
                               const std::vector<std::int32_t>& not_served);
// Asks the instance at `url` (with `authorization` as its Authorization
// header, when not empty) for `partitions` at `at`; the partitions it does
// not serve are missing from the answer.
[[nodiscard]] Result<std::map<std::int32_t, PartitionStockAt>> peer_stock_at(
    const std::string& url, const std::string& authorization, TimeMs at,
    const std::vector<std::int32_t>& partitions);

// Reports in scale-out (engine/queries/reports.h): each instance answers for
// the partitions it serves, and the alert leader for the alerts
// (GET /api/peer/report?period=&scope=&trend=&window=&partitions=&alerts=1);
// the asking one combines the parts. The body: {"partitions": {"<p>":
// {"counters": {key: n}, "day", "available": {"<stock key>": n}, "demand":
// {"<demand key>": n}}}, "not_served": [p...], "alerts": {"rows": [row...],
// "open": [alert...], "clock"} (only when asked and this instance leads them)}.
struct PeerReport {
  std::map<std::int32_t, PartitionReport> partitions;  // those the peer serves
  std::optional<AlertReportPart> alerts;               // when asked and it leads them
};
nlohmann::json peer_report_json(const std::map<std::int32_t, PartitionReport>& served,
                                const std::vector<std::int32_t>& not_served,
                                const AlertReportPart* alerts, const ReferenceData& ref);
[[nodiscard]] Result<PeerReport> peer_report_from_json(const nlohmann::json& body);
// Asks the instance at `url` (with `authorization`, when not empty) for its
// part of the report `req` (its period, scope and trend) over `partitions`,
// and for the alerts' part when `alerts`.
[[nodiscard]] Result<PeerReport> peer_report(const std::string& url,
                                             const std::string& authorization,
                                             const ReportRequest& req, int window_days,
                                             const std::vector<std::int32_t>& partitions,
                                             bool alerts);

// A verdict as GET /api/verdict sends it: {"status", "code", "message"}, the
// status as engine/ledger/verdict.h writes it; bad_verdict when it is not one.
nlohmann::json verdict_json(const Verdict& v);
[[nodiscard]] Result<Verdict> verdict_from_json(const nlohmann::json& j);

}  // namespace hemoledger
