#include "bench/pg_baseline.h"

#include <stdexcept>

#include "events/event.h"
#include "events/json_codec.h"
#include "events/time.h"
#include "projections/compatibility.h"
#include "projections/unit_state.h"

namespace hemoledger::bench {

namespace {

const char* kSchema = R"SQL(
DROP TABLE IF EXISTS events, rejections, donations, test_results, units, stock;
CREATE TABLE events (id text PRIMARY KEY, din text NOT NULL, type text NOT NULL,
                     at bigint NOT NULL, body text NOT NULL);
CREATE TABLE rejections (seq bigserial PRIMARY KEY, event_id text, code text NOT NULL,
                         body text NOT NULL);
CREATE TABLE donations (din text PRIMARY KEY, donor text, abo_rh text NOT NULL,
                        facility text NOT NULL, collected_at bigint NOT NULL,
                        tests_done integer NOT NULL DEFAULT 0,
                        tti_positive boolean NOT NULL DEFAULT false);
CREATE TABLE test_results (din text NOT NULL REFERENCES donations, test text NOT NULL,
                           result text NOT NULL, at bigint NOT NULL);
CREATE INDEX test_results_din ON test_results (din);
CREATE TABLE units (din text NOT NULL REFERENCES donations, product text NOT NULL,
                    category text NOT NULL, abo_rh text NOT NULL, status text NOT NULL,
                    holder text NOT NULL, destination text NOT NULL DEFAULT '',
                    expires_at bigint NOT NULL, PRIMARY KEY (din, product));
CREATE INDEX units_available ON units (holder, category, expires_at) WHERE status = 'available';
CREATE TABLE stock (facility text NOT NULL, category text NOT NULL, abo_rh text NOT NULL,
                    status text NOT NULL, n bigint NOT NULL,
                    PRIMARY KEY (facility, category, abo_rh, status));
)SQL";

struct Statement {
  const char* name;
  const char* sql;
  int params;
};

const Statement kStatements[] = {
    {"sel_event", "SELECT 1 FROM events WHERE id = $1", 1},
    {"ins_event", "INSERT INTO events (id, din, type, at, body) VALUES ($1, $2, $3, $4, $5)", 5},
    {"ins_reject", "INSERT INTO rejections (event_id, code, body) VALUES ($1, $2, $3)", 3},
    {"sel_donation",
     "SELECT abo_rh, tti_positive, tests_done, collected_at FROM donations WHERE din = $1 "
     "FOR UPDATE",
     1},
    {"ins_donation",
     "INSERT INTO donations (din, donor, abo_rh, facility, collected_at) "
     "VALUES ($1, $2, $3, $4, $5)",
     5},
    {"upd_tests",
     "UPDATE donations SET tests_done = tests_done | $2::integer, "
     "tti_positive = tti_positive OR $3::boolean WHERE din = $1",
     3},
    {"ins_test", "INSERT INTO test_results (din, test, result, at) VALUES ($1, $2, $3, $4)", 4},
    {"sel_unit",
     "SELECT status, holder, destination, category, abo_rh, expires_at FROM units "
     "WHERE din = $1 AND product = $2 FOR UPDATE",
     2},
    {"ins_unit",
     "INSERT INTO units (din, product, category, abo_rh, status, holder, expires_at) "
     "VALUES ($1, $2, $3, $4, 'quarantined', $5, $6)",
     6},
    {"upd_unit",
     "UPDATE units SET status = $3, holder = $4, destination = $5 WHERE din = $1 AND product = $2",
     5},
    {"upd_stock",
     "INSERT INTO stock (facility, category, abo_rh, status, n) VALUES ($1, $2, $3, $4, $5) "
     "ON CONFLICT (facility, category, abo_rh, status) DO UPDATE SET n = stock.n + EXCLUDED.n",
     5},
};

bool counted(UnitStatus s) { return in_stock(s); }

}  // namespace

PgBaseline::PgBaseline(const std::string& conninfo, const ReferenceData& ref)
    : ref_(ref), conn_(PQconnectdb(conninfo.c_str())) {
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    throw std::runtime_error(std::string("PostgreSQL: ") +
                             (conn_ ? PQerrorMessage(conn_.get()) : "out of memory"));
  }
  exec("SET client_min_messages = warning");
  exec(kSchema);
  for (const auto& s : kStatements) {
    PgResultPtr r(PQprepare(conn_.get(), s.name, s.sql, s.params, nullptr));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      throw std::runtime_error(std::string("PostgreSQL prepare ") + s.name + ": " +
                               PQerrorMessage(conn_.get()));
    }
  }
  for (std::size_t i = 0; i < ref_.tests().size() && i < 32; ++i) {
    if (ref_.tests()[i].mandatory) mandatory_mask_ |= 1u << i;
  }
}

PgResultPtr PgBaseline::exec(const char* sql) {
  PgResultPtr r(PQexec(conn_.get(), sql));
  const auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw std::runtime_error(std::string("PostgreSQL: ") + PQerrorMessage(conn_.get()));
  }
  ++statements_;
  return r;
}

PgResultPtr PgBaseline::run(const char* name, std::initializer_list<std::string_view> params) {
  std::string storage[8];
  const char* values[8];
  std::size_t n = 0;
  for (auto p : params) {
    storage[n].assign(p);  // libpq wants NUL-terminated text
    values[n] = storage[n].c_str();
    ++n;
  }
  PgResultPtr r(
      PQexecPrepared(conn_.get(), name, static_cast<int>(n), values, nullptr, nullptr, 0));
  const auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw std::runtime_error(std::string("PostgreSQL ") + name + ": " +
                             PQerrorMessage(conn_.get()));
  }
  ++statements_;
  return r;
}

void PgBaseline::apply_batch(const std::vector<PgMessage>& batch) {
  exec("BEGIN");
  for (const auto& m : batch) apply_one(m);
  exec("COMMIT");
}

void PgBaseline::reject(std::string_view event_id, std::string_view code, std::string_view body) {
  run("ins_reject", {event_id, code, body});
  ++rejected_;
}

void PgBaseline::move_stock(const std::string& facility, const std::string& category,
                            const std::string& group, const std::string& status, int change) {
  run("upd_stock", {facility, category, group, status, std::to_string(change)});
}

void PgBaseline::apply_one(const PgMessage& m) {
  auto decoded = decode_json(m.value);
  if (!decoded) return reject("", decoded.error().code, m.value);
  const Event& e = *decoded;
  if (m.key != e.din) return reject(e.id, "key_mismatch", m.value);
  if (PQntuples(run("sel_event", {e.id}).get()) > 0) {
    return reject(e.id, "duplicate_event", m.value);
  }
  const std::string at = std::to_string(e.at);
  auto accept = [&] {
    run("ins_event", {e.id, e.din, to_string(e.type), at, m.value});
    ++applied_;
  };

  if (e.type == EventType::donation_collected) {
    if (PQntuples(run("sel_donation", {e.din}).get()) > 0) {
      return reject(e.id, "donation_exists", m.value);
    }
    if (!ref_.facility(e.facility)) return reject(e.id, "unknown_facility", m.value);
    run("ins_donation", {e.din, e.donor, to_string(e.abo_rh), e.facility, at});
    return accept();
  }

  auto donation = run("sel_donation", {e.din});
  if (PQntuples(donation.get()) == 0) return reject(e.id, "unknown_donation", m.value);
  const std::string donor_group = PQgetvalue(donation.get(), 0, 0);
  const bool positive = PQgetvalue(donation.get(), 0, 1)[0] == 't';
  const auto tests_done = static_cast<std::uint32_t>(std::stoul(PQgetvalue(donation.get(), 0, 2)));
  const TimeMs collected_at = std::stoll(PQgetvalue(donation.get(), 0, 3));

  if (e.type == EventType::test_resulted) {
    std::uint32_t bit = 0;
    bool pos = false;
    for (std::size_t i = 0; i < ref_.tests().size() && i < 32; ++i) {
      const TestDef& t = ref_.tests()[i];
      if (t.code != e.test) continue;
      pos = t.kind == TestKind::screen && e.result == "positive";
      if (t.kind != TestKind::screen || e.result == "negative") bit = 1u << i;
    }
    if (!ref_.test(e.test)) return reject(e.id, "unknown_test", m.value);
    run("ins_test", {e.din, e.test, e.result, at});
    run("upd_tests", {e.din, std::to_string(bit), pos ? "true" : "false"});
    return accept();
  }

  if (e.type == EventType::component_produced) {
    const Product* p = ref_.product(e.product);
    if (!p) return reject(e.id, "unknown_product", m.value);
    if (PQntuples(run("sel_unit", {e.din, e.product}).get()) > 0) {
      return reject(e.id, "unit_exists", m.value);
    }
    const std::string category(to_string(p->category));
    const TimeMs expires =
        e.expires_at ? e.expires_at : end_of_day_after(collected_at, p->shelf_life_days);
    run("ins_unit", {e.din, e.product, category, donor_group, e.facility, std::to_string(expires)});
    move_stock(e.facility, category, donor_group, "quarantined", +1);
    return accept();
  }

  auto unit = run("sel_unit", {e.din, e.product});
  if (PQntuples(unit.get()) == 0) return reject(e.id, "unknown_unit", m.value);
  UnitStatus status{};
  parse_unit_status(PQgetvalue(unit.get(), 0, 0), status);
  std::string holder = PQgetvalue(unit.get(), 0, 1);
  std::string destination = PQgetvalue(unit.get(), 0, 2);
  const std::string category = PQgetvalue(unit.get(), 0, 3);
  const std::string group = PQgetvalue(unit.get(), 0, 4);
  const TimeMs expires_at = std::stoll(PQgetvalue(unit.get(), 0, 5));
  if (is_final(status)) return reject(e.id, "unit_final", m.value);

  UnitStatus next = status;
  std::string next_holder = holder, next_destination = destination;
  auto held_here = [&] { return holder == e.facility; };
  auto fail = [&](const char* code) { reject(e.id, code, m.value); };
  switch (e.type) {
    case EventType::unit_released:
      if (status != UnitStatus::quarantined) return fail("not_quarantined");
      if (!held_here()) return fail("not_holder");
      if (positive) return fail("tti_positive");
      if ((tests_done & mandatory_mask_) != mandatory_mask_) return fail("tests_missing");
      if (e.at >= expires_at) return fail("unit_expired");
      next = UnitStatus::available;
      break;
    case EventType::unit_quarantined:
      if (!held_here()) return fail("not_holder");
      next = UnitStatus::quarantined;
      break;
    case EventType::transfer_dispatched:
      if (status != UnitStatus::available) return fail("not_available");
      if (!held_here()) return fail("not_holder");
      if (e.at >= expires_at) return fail("unit_expired");
      next = UnitStatus::in_transit;
      next_destination = e.to;
      break;
    case EventType::transfer_received:
      if (status != UnitStatus::in_transit) return fail("not_in_transit");
      if (destination != e.facility) return fail("not_destination");
      next = UnitStatus::available;
      next_holder = e.facility;
      next_destination.clear();
      break;
    case EventType::unit_reserved:
      if (status != UnitStatus::available) return fail("not_available");
      if (!held_here()) return fail("not_holder");
      next = UnitStatus::reserved;
      break;
    case EventType::reservation_released:
      if (status != UnitStatus::reserved) return fail("not_reserved");
      next = UnitStatus::available;
      break;
    case EventType::unit_issued: {
      if (status == UnitStatus::quarantined) return fail("unit_quarantined");
      if (status != UnitStatus::available && status != UnitStatus::reserved) {
        return fail("not_available");
      }
      if (!held_here()) return fail("not_holder");
      if (e.at >= expires_at) return fail("unit_expired");
      Category c = Category::unknown;
      parse_category(category, c);
      auto g = parse_abo_rh(group);
      if (e.patient_abo_rh != AboRh::unknown &&
          !check_compatible(c, g.value_or(AboRh::unknown), e.patient_abo_rh)) {
        return fail("incompatible");
      }
      next = UnitStatus::issued;
      break;
    }
    case EventType::unit_returned:
      if (status != UnitStatus::issued) return fail("not_issued");
      next = UnitStatus::available;
      break;
    case EventType::unit_transfused:
      if (status != UnitStatus::issued) return fail("not_issued");
      next = UnitStatus::transfused;
      break;
    case EventType::unit_discarded:
      next = UnitStatus::discarded;
      break;
    case EventType::unit_expired:
      if (status == UnitStatus::issued) return fail("unit_issued");
      next = UnitStatus::expired;
      break;
    case EventType::unit_recalled:
      next = UnitStatus::quarantined;
      break;
    default:
      return fail("unexpected_event");
  }
  run("upd_unit", {e.din, e.product, to_string(next), next_holder, next_destination});
  if (counted(status)) move_stock(holder, category, group, std::string(to_string(status)), -1);
  if (counted(next)) move_stock(next_holder, category, group, std::string(to_string(next)), +1);
  accept();
}

std::int64_t PgBaseline::stock_total() {
  auto r = exec("SELECT facility, category, abo_rh, status, n FROM stock WHERE n <> 0");
  std::int64_t total = 0;
  for (int i = 0; i < PQntuples(r.get()); ++i) total += std::stoll(PQgetvalue(r.get(), i, 4));
  return total;
}

}  // namespace hemoledger::bench
