// Replay and rebuild: projections recomputed from the journal alone, for
// `rebuild` (and `rebuild --check`), `stock --at` and GET /api/stock?at=,
// and the benchmarks. Nothing here needs a running engine: each function
// reads (and rebuild() with `write` replaces) what a Store holds, so the
// engine must not be applying batches while rebuild() writes.
//
// Every function is deterministic: the same journal gives the same answer on
// any machine and date (the events carry their times; nothing reads a clock).
// Threading: rebuild() replays partitions on every core; the others run on
// the calling thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/storage/store.h"
#include "events/reference_data.h"
#include "projections/alerts.h"
#include "projections/partition_replay.h"
#include "projections/projector.h"
#include "projections/stock.h"

namespace hemoledger {

// One partition's journal replayed through the projector in offset order
// (projections/partition_replay.h, the one replay of an event). With `until`,
// events that happened after it are skipped (and an event the projector then
// refuses is skipped too); without, every journaled event must be accepted
// again or the replay fails with "replay_diverged". Reads only that partition;
// rebuild() does not use it (it reads the whole journal once).
using ReplayedPartition = PartitionState;
[[nodiscard]] Result<ReplayedPartition> replay_partition(const Store& store,
                                                         const ReferenceData& ref,
                                                         const Rules& rules, std::int32_t partition,
                                                         std::optional<TimeMs> until);

// Stock as it was at instant `at`: the journal replayed up to it. Costs a
// replay of the whole journal.
[[nodiscard]] Result<StockTable> stock_at(const Store& store, const ReferenceData& ref,
                                          const Rules& rules, TimeMs at);

// Recomputes every projection from the journal, read once: all partitions
// together, batch by recorded batch, feeding the alert model at each recorded
// boundary as the engine did (replay_alerts), then compared (and with `write`
// replaced) partition by partition. With `write` false it only compares; with `write` true it also
// replaces the stored projections (the engine must not be running). `equal` says whether the
// recomputed state was identical to the stored (live) state.
struct RebuildReport {
  std::uint64_t events = 0;
  std::uint64_t donations = 0;
  std::uint64_t reagent_lots = 0;
  bool equal = true;
  std::vector<std::string> differences;  // first few, for people
  double seconds = 0;
};
// How rebuild() holds the donations it replays
// (projections/replayed_donations.h): `decoded` of each partition at once
// (tests make it small, so that nearly every donation is compared from its
// encoded form), the others encoded: in a scratch store
// (engine/storage/scratch_store.h) made at `scratch_dir` and removed
// afterwards when it is set, so that memory does not grow with the history;
// in memory when it is empty.
struct ReplayHolding {
  std::size_t decoded = ReplayedDonations::kDecodedLimit;
  std::string scratch_dir;
};
[[nodiscard]] Result<RebuildReport> rebuild(Store& store, const ReferenceData& ref,
                                            const Rules& rules, bool write,
                                            const SupplyConfig& supply = {},
                                            const ReplayHolding& holding = {});

// The alert changes and open alerts a replay of the journal produces, batch by
// recorded batch (Store::scan_batch_ends), with a fresh alert model: the same
// single pass as rebuild(), which also yields every partition's projections.
struct ReplayedAlerts {
  std::vector<AlertChange> changes;
  std::map<std::string, Alert> open;
  AlertState state;
  std::uint64_t refused_follow_ups = 0;  // journaled follow-up events the replay refused
};
[[nodiscard]] Result<ReplayedAlerts> replay_alerts(const Store& store, const ReferenceData& ref,
                                                   const Rules& rules, const SupplyConfig& supply);

}  // namespace hemoledger
