// PgBaseline: what a user would pick instead of hemoledger, for comparison.
// The same event stream applied to PostgreSQL the way a typical relational
// blood bank system does it: a `units` table and a `stock` table (plus
// donations, test results, an event log and rejections) updated per event
// with prepared statements over libpq, validation in the application
// (SELECT ... FOR UPDATE, check, UPDATE), one transaction per consumed batch,
// PostgreSQL's durable defaults (fsync on, synchronous_commit on).
//
// The rules checked are the core of the engine's (projections/projector.h):
// a repeated event id is ignored; units come from a known donation; release
// needs every mandatory test done and no positive screen; only the holder
// acts on a unit; expired units cannot be issued; ABO/RhD compatibility on
// issue; final states are final. It is a baseline, not a second engine.
//
// Threading: one thread per object (one libpq connection).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/reference_data.h"

namespace hemoledger::bench {

struct PgConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnCloser>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultClearer>;

struct PgMessage {
  std::string key, value;
};

class PgBaseline {
 public:
  // Connects and (re)creates the schema. Throws std::runtime_error on failure.
  PgBaseline(const std::string& conninfo, const ReferenceData& ref);
  // Applies the messages in one transaction.
  void apply_batch(const std::vector<PgMessage>& batch);
  // The stock the way such a system reads it: SELECT ... FROM stock. Returns
  // the total of the in-stock counts.
  std::int64_t stock_total();
  std::uint64_t applied() const { return applied_; }
  std::uint64_t rejected() const { return rejected_; }
  std::uint64_t statements() const { return statements_; }

 private:
  PgResultPtr exec(const char* sql);
  PgResultPtr run(const char* name, std::initializer_list<std::string_view> params);
  void apply_one(const PgMessage& m);
  void reject(std::string_view event_id, std::string_view code, std::string_view body);
  void move_stock(const std::string& facility, const std::string& category,
                  const std::string& group, const std::string& status, int change);

  const ReferenceData& ref_;
  PgConnPtr conn_;
  std::uint32_t mandatory_mask_ = 0;
  std::uint64_t applied_ = 0, rejected_ = 0, statements_ = 0;
};

}  // namespace hemoledger::bench
