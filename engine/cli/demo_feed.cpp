#include "engine/cli/demo_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "engine/io/clock.h"
#include "events/event.h"
#include "events/json_codec.h"
#include "projections/compatibility.h"
#include "projections/demand.h"

namespace hemoledger {

namespace {

enum class SimStatus { quarantined, available, in_transit, issued, final };

struct SimUnit {
  std::string din, product;
  Category category;
  AboRh group;
  std::string holder, destination;
  SimStatus status = SimStatus::quarantined;
  TimeMs expires_at = 0, due = 0;  // due: when the pending step (receive, transfuse) happens
  bool returning = false;
  std::string patient;    // while issued: the pseudonymous patient
  std::string issued_by;  // while issued: the bank it returns to (a hospital holds it)
};

struct SimDonation {
  std::string din, facility;
  AboRh group;
  TimeMs tests_due = 0;
  bool tested = false;
  bool positive = false;
  TimeMs release_due = 0;
  bool released = false;
  std::vector<std::uint64_t> units;  // serials of its components in units_
};

constexpr const char* kPlateletProduct = "E3045V00";

// A min-heap of (time, unit serial): when something is due for a unit.
using DueQueue = std::priority_queue<std::pair<TimeMs, std::uint64_t>,
                                     std::vector<std::pair<TimeMs, std::uint64_t>>, std::greater<>>;

// Typical ABO/RhD shares in the region (DOMAIN.md), per mille.
const std::vector<std::pair<AboRh, int>> kGroupShares = {
    {AboRh::o_pos, 360}, {AboRh::a_pos, 310}, {AboRh::b_pos, 170}, {AboRh::ab_pos, 50},
    {AboRh::o_neg, 50},  {AboRh::a_neg, 40},  {AboRh::b_neg, 15},  {AboRh::ab_neg, 5}};

class Simulation {
 public:
  Simulation(const ReferenceData& ref, const DemoFeed::Sink& sink, DemoOptions o)
      : ref_(ref), sink_(sink), opt_(o) {
    const TimeMs wall = opt_.clock.now();
    rng_.seed(o.seed ? o.seed : static_cast<std::uint64_t>(wall));
    now_ = o.start_at != 0 ? o.start_at : wall - 30 * kDay;
    first_ = now_;
    run_id_ = std::to_string(rng_() % 1000000);
    sequence_ = static_cast<int>(rng_() % 800000);
    for (const auto& g : ref.governorates()) {
      for (const auto& f : ref.facilities()) {
        if (f.governorate == g.code && f.kind == FacilityKind::blood_bank) {
          banks_.push_back(f.code);
          weights_.push_back(g.population_thousands);
          break;
        }
      }
    }
    // The larger banks are regional hubs (a third of them, at least one).
    std::vector<std::size_t> order(banks_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return weights_[a] > weights_[b]; });
    for (std::size_t i = 0; i < std::max<std::size_t>(1, order.size() / 3); ++i) {
      if (!order.empty()) hubs_.insert(banks_[order[i]]);
    }
    for (std::size_t i = 0; i < banks_.size(); ++i) weight_of_[banks_[i]] = weights_[i];
    for (const auto& b : banks_) region_of_[b] = region(b);
    // The largest bank of each region prepares platelets (and issues them).
    std::map<std::string, std::string> largest;  // region -> bank
    for (const std::size_t i : order) largest.emplace(region_of_[banks_[i]], banks_[i]);
    for (const auto& [r, b] : largest) platelet_banks_.insert(b);
    for (std::size_t i = 0; i < banks_.size(); ++i) {
      total_weight_ += weights_[i];
      if (platelet_banks_.count(banks_[i])) platelet_weight_ += weights_[i];
    }
    for (const auto& b : banks_) hub_of_[b] = nearest_hub(b);
  }

  // One step of `step` simulated ms, taking `real_ms` of real time; the pace
  // after catching up is that of `pace_step` per `real_ms`.
  void tick(TimeMs step, TimeMs real_ms, TimeMs pace_step) {
    // Simulated time runs ahead from 30 days back until it meets the clock,
    // then keeps to it: events are never dated in the future (the engine
    // refuses those) and time never stands still. The feed keeps its pace of
    // events; once it has caught up, the waits between a donation's steps
    // (testing, release, transfusion, transfer) shrink by the same factor, so
    // that what is collected is still tested, released and issued within
    // seconds rather than hours of real time.
    const TimeMs clock_now = opt_.clock.now();
    clock_now_ = clock_now;
    if (pace_ == 1.0 && now_ + step >= clock_now && step > 0) {
      pace_ = std::min(1.0, static_cast<double>(real_ms) / static_cast<double>(pace_step));
    }
    now_ = std::max(now_, std::min(now_ + step, clock_now));
    expire();
    const double hours = static_cast<double>(step) / kHour;
    const int weekday = static_cast<int>((day_of(now_) + 4) % 7);  // 0 Sunday .. 5 Friday
    const bool building_up = now_ < first_ + static_cast<TimeMs>(opt_.build_up_days * kDay);
    std::poisson_distribution<int> donations(opt_.donations_per_hour *
                                             kDonationsByWeekday[weekday] * hours *
                                             (building_up ? opt_.build_up_factor : 1.0));
    for (int i = donations(rng_); i > 0; --i) collect();
    test_and_release();
    const double demand_rate = opt_.donations_per_hour * kDemandByWeekday[weekday] * hours;
    std::poisson_distribution<int> demand(demand_rate * opt_.red_cell_demand);
    for (int i = demand(rng_); i > 0; --i) issue(Category::red_cells, random_group());
    std::poisson_distribution<int> other(demand_rate * 0.3);
    for (int i = other(rng_); i > 0; --i) {
      issue(chance(0.5) ? Category::platelets : Category::plasma, random_group());
    }
    progress_issued_and_transit();
    // Every two simulated hours, shortened like the waits once caught up.
    if (now_ - last_resupply_ >= static_cast<TimeMs>(2 * kHour * pace_)) {
      last_resupply_ = now_;
      resupply();
    }
    if (chance(opt_.rebalance_per_hour * hours)) rebalance();
    if (chance(opt_.surge_per_hour * hours)) surge();
    if (chance(0.02 * hours)) unsafe_issue();
  }

  std::uint64_t produced = 0;
  // Whether simulated time is still behind the clock.
  bool catching_up() const { return pace_ == 1.0 && now_ < opt_.clock.now(); }

 private:
  // Relative rates by weekday, Sunday first: the working week (Sunday to
  // Thursday) collects and transfuses more; Friday is the weekly rest day.
  static constexpr double kDonationsByWeekday[7] = {1.15, 1.1, 1.1, 1.1, 1.05, 0.4, 0.8};
  static constexpr double kDemandByWeekday[7] = {1.15, 1.15, 1.1, 1.1, 1.0, 0.55, 0.75};

  // A mass-casualty surge: a burst of group O red cells at one bank.
  void surge() {
    std::discrete_distribution<std::size_t> pick(weights_.begin(), weights_.end());
    const std::string& bank = banks_[pick(rng_)];
    const int n = 6 + static_cast<int>(rng_() % 10);
    spdlog::info("demo: a mass-casualty surge at {} ({} red cell units)", bank, n);
    for (int i = 0; i < n; ++i)
      issue_at(bank, Category::red_cells, chance(0.3) ? AboRh::o_neg : AboRh::o_pos);
  }

  DonationType random_donation_type() {
    const int r = static_cast<int>(rng_() % 100);
    return r < 74   ? DonationType::voluntary
           : r < 98 ? DonationType::replacement
                    : DonationType::autologous;
  }

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  TimeMs hours(double lo, double hi) {
    return static_cast<TimeMs>(std::uniform_real_distribution<double>(lo, hi)(rng_) * kHour);
  }
  // A wait of `lo` to `hi` hours until a unit's next step, at the feed's pace.
  TimeMs wait(double lo, double hi) {
    return std::max<TimeMs>(1, static_cast<TimeMs>(static_cast<double>(hours(lo, hi)) * pace_));
  }

  AboRh random_group() {
    int r = static_cast<int>(rng_() % 1000);
    for (const auto& [g, share] : kGroupShares) {
      if ((r -= share) < 0) return g;
    }
    return AboRh::o_pos;
  }

  Event base(EventType type, const std::string& facility, const std::string& din) {
    Event e;
    e.id = "demo-" + run_id_ + "-" + std::to_string(++event_counter_);
    e.type = type;
    e.at = now_;
    e.facility = facility;
    e.din = din;
    e.actor = "demo-feed";
    e.station = "sim";
    return e;
  }

  void send(const Event& e) {
    if (auto s = sink_(event_key(e), encode_json(e)); !s) {
      spdlog::warn("demo: {}", s.error().message);
      return;
    }
    ++produced;
  }

  Event unit_event(EventType type, const SimUnit& u) {
    Event e = base(type, u.holder, u.din);
    e.product = u.product;
    return e;
  }

  void collect() {
    std::discrete_distribution<std::size_t> pick(weights_.begin(), weights_.end());
    const std::size_t bank = pick(rng_);
    char din[16];
    const int year = 26;
    std::snprintf(din, sizeof din, "W%04zu%02d%06d", 1000 + bank, year, ++sequence_ % 1000000);
    SimDonation d{din, banks_[bank], random_group(), now_ + wait(2, 8), false, false, 0, false, {}};
    Event e = base(EventType::donation_collected, d.facility, d.din);
    // Donors give now and then, not within the minimum interval (DNR-<run>-<n>).
    e.donor = "DNR-" + run_id_ + "-" + std::to_string(++donors_);
    e.abo_rh = d.group;
    e.volume_ml = 450;
    e.donation_type = random_donation_type();
    send(e);
    auto produce = [&](const char* product, Category c) {
      Event p = base(EventType::component_produced, d.facility, d.din);
      p.at = std::min(now_ + wait(1, 1), std::max(now_, clock_now_));
      p.product = product;
      p.volume_ml = c == Category::red_cells ? 280 : c == Category::plasma ? 220 : 60;
      send(p);
      const Product* info = ref_.product(product);
      const std::uint64_t serial = ++unit_serial_;
      const SimUnit& u =
          units_
              .emplace(serial,
                       SimUnit{d.din, product, c, d.group, d.facility, "", SimStatus::quarantined,
                               end_of_day_after(now_, info ? info->shelf_life_days : 5), 0, false,
                               "", ""})
              .first->second;
      expiries_.push({u.expires_at, serial});
      ++quarantined_[{d.facility, c, d.group}];
      d.units.push_back(serial);
    };
    produce("E0382V00", Category::red_cells);
    if (chance(0.8)) produce("E2555V00", Category::plasma);
    if (platelet_banks_.count(d.facility) && wants_platelets(d.facility, d.group)) {
      produce(kPlateletProduct, Category::platelets);
    }
    donations_.push_back(d);
  }

  // Platelets are prepared from a donation when the bank's stock of its
  // group is under par; RhD-negative ones, always short, from every donation
  // of a group the bank stocks. Not while simulated time is so far behind the
  // clock that they would be past their expiry on it (the engine would
  // expire them at once).
  bool wants_platelets(const std::string& bank, AboRh g) const {
    const Product* info = ref_.product(kPlateletProduct);
    if (end_of_day_after(now_, info ? info->shelf_life_days : 5) < opt_.clock.now() + kDay) {
      return false;
    }
    const std::int64_t want = par(bank, Category::platelets, g);
    return want > 0 && (rhd_of(g) == RhD::negative || held(bank, Category::platelets, g) < want);
  }

  void test_and_release() {
    for (auto& d : donations_) {
      if (!d.tested && d.tests_due <= now_) {
        d.tested = true;
        const std::string lab = d.facility.substr(0, d.facility.find('-')) + "-LAB";
        auto result = [&](const char* test, std::string value) {
          const std::string where = ref_.facility(lab) ? lab : d.facility;
          Event e = base(EventType::test_resulted, where, d.din);
          e.test = test;
          e.result = std::move(value);
          send(e);
          use_reagents(where, d.facility, test, d.din);
        };
        result("abo", std::string(to_string(abo_of(d.group))));
        result("rhd", rhd_of(d.group) == RhD::positive ? "pos" : "neg");
        for (const char* screen : {"hiv", "hbv", "hcv", "syphilis"}) {
          const bool pos = chance(0.004);
          d.positive = d.positive || pos;
          result(screen, pos ? "positive" : "negative");
        }
        d.release_due = now_ + wait(0.5, 2);
      }
      if (d.tested && !d.released && d.release_due <= now_) {
        d.released = true;
        for (const std::uint64_t serial : d.units) {
          auto it = units_.find(serial);
          if (it == units_.end()) continue;
          SimUnit& u = it->second;
          if (u.status != SimStatus::quarantined || !usable(u)) continue;
          if (d.positive) {
            Event e = unit_event(EventType::unit_discarded, u);
            e.reason = "tti_positive";
            send(e);
            count_demand(u, 1);
            set_status(serial, SimStatus::final);
          } else {
            send(unit_event(EventType::unit_released, u));
            set_status(serial, SimStatus::available);
            // A group the bank does not stock goes to its hub once released.
            const std::string& hub = hub_of_[d.facility];
            if (hub != d.facility && par(d.facility, u.category, u.group) == 0) {
              dispatch(serial, hub);
            }
          }
        }
      }
    }
    std::erase_if(donations_, [](const SimDonation& d) { return d.released; });
  }

  // Each test uses one test of a reagent kit at the lab, from the lot that
  // expires first. The lab's store reorders when the cover falls near the
  // catalogue's minimum (docs/alerts.md, reagent_cover) and orders weeks of
  // use; a delivery now and then comes late, and a lot now and then is
  // short-dated, so that the occasional cover or expiry alert happens.
  struct SimLot {
    std::string lot;
    std::int64_t left = 0;
    TimeMs expires_at = 0;
  };
  struct SimStore {                    // one reagent at one lab
    std::vector<SimLot> lots;          // with stock, first to expire first
    std::int64_t on_order = 0;         // 0: nothing ordered
    TimeMs delivery_due = 0;           // when what is on order arrives
    std::map<std::int64_t, int> used;  // tests used per day
  };
  void use_reagents(const std::string& lab, const std::string& bank, const std::string& test,
                    const std::string& din) {
    static const std::map<std::string, std::vector<std::string>> kUses = {
        {"abo", {"anti-A", "anti-B"}}, {"rhd", {"anti-D"}},    {"hiv", {"hiv-elisa"}},
        {"hbv", {"hbsag-elisa"}},      {"hcv", {"hcv-elisa"}}, {"syphilis", {"syphilis-elisa"}}};
    auto it = kUses.find(test);
    if (it == kUses.end()) return;
    for (const auto& reagent : it->second) {
      const ReagentDef* def = ref_.reagents().find(reagent);
      if (!def) continue;
      SimStore& store = stores_[{lab, reagent}];
      const TimeMs latest = std::max(now_, opt_.clock.now());
      std::erase_if(store.lots,
                    [&](const SimLot& l) { return l.left <= 0 || l.expires_at <= latest + kHour; });
      if (store.on_order > 0 && store.delivery_due <= now_) {
        receive_lot(lab, store, store.on_order, reagent);
        store.on_order = 0;
      }
      reorder(lab, bank, reagent, *def, store);
      if (store.lots.empty()) continue;  // out of stock until the delivery comes
      SimLot& lot = store.lots.front();
      Event e = base(EventType::reagent_consumed, lab, "");
      e.reagent = reagent;
      e.lot = lot.lot;
      e.quantity = 1;
      e.din = din;
      e.test = test;
      send(e);
      --lot.left;
      auto& used = store.used;
      ++used[day_of(now_)];
      used.erase(used.begin(), used.lower_bound(day_of(now_) - opt_.supply.window_days));
    }
  }
  // Orders when the stock on hand would last less than the minimum cover,
  // the lead time and a week; enough for the minimum cover and six weeks more.
  // The first order (an empty store) is the opening stock, there at once.
  void reorder(const std::string& lab, const std::string& bank, const std::string& reagent,
               const ReagentDef& def, SimStore& store) {
    if (store.on_order > 0) return;
    std::int64_t on_hand = 0;
    for (const auto& l : store.lots) on_hand += l.left;
    const double rate = reagent_rate(bank, store);
    if (static_cast<double>(on_hand) >= rate * (def.min_cover_days + 3 + 7)) return;
    store.on_order = std::max<std::int64_t>(
        10, static_cast<std::int64_t>(std::ceil(rate * (def.min_cover_days + 42))) - on_hand);
    if (on_hand == 0 && store.used.empty()) {
      receive_lot(lab, store, store.on_order, reagent);
      store.on_order = 0;
      return;
    }
    store.delivery_due = now_ + wait(24, 72) + (chance(0.05) ? wait(24 * 8, 24 * 16) : 0);
  }
  // Tests a lab uses per day: the larger of what it used lately (per day
  // since the feed began, within the alerts' window) and what its bank's
  // collections need now (the build-up's included).
  double reagent_rate(const std::string& bank, const SimStore& store) const {
    const std::int64_t today = day_of(now_);
    std::int64_t used = 0;
    for (const auto& [day, n] : store.used) used += day > today - opt_.supply.window_days ? n : 0;
    const double days = std::clamp(static_cast<double>(now_ - first_) / kDay, 1.0,
                                   static_cast<double>(opt_.supply.window_days));
    const bool building_up = now_ < first_ + static_cast<TimeMs>(opt_.build_up_days * kDay);
    const double expected = opt_.donations_per_hour * 24 * 1.15 *
                            (building_up ? opt_.build_up_factor : 1.0) * weight_of_.at(bank) /
                            total_weight_;
    return std::max(static_cast<double>(used) / days, expected);
  }
  void receive_lot(const std::string& lab, SimStore& store, std::int64_t quantity,
                   const std::string& reagent) {
    SimLot lot;
    lot.lot = "L" + std::to_string(100000 + rng_() % 900000);
    lot.left = quantity;
    // Expiry on both clocks: the engine's ticker expires lots on the engine's clock.
    lot.expires_at = std::max(now_, opt_.clock.now()) +
                     (chance(0.03) ? hours(24 * 35, 24 * 50) : hours(24 * 150, 24 * 360));
    Event e = base(EventType::reagent_received, lab, "");
    e.reagent = reagent;
    e.lot = lot.lot;
    e.quantity = static_cast<std::int32_t>(lot.left);
    e.expires_at = lot.expires_at;
    send(e);
    store.lots.push_back(lot);
    std::sort(store.lots.begin(), store.lots.end(),
              [](const SimLot& a, const SimLot& b) { return a.expires_at < b.expires_at; });
  }

  // The compatible usable unit of category `c` at `bank` that expires first.
  // The patient's own group first, as banks issue (not RhD-positive
  // platelets, which go oldest first across ABO groups so that fewer
  // expire); then a compatible one of the patient's RhD (RhD-negative units
  // are kept for RhD-negative patients); any compatible one otherwise.
  std::uint64_t fefo(Category c, AboRh patient, const std::string& bank) {
    auto shelf = available_.find({bank, c});
    if (shelf == available_.end()) return 0;
    for (const int pass : {0, 1, 2}) {
      if (pass == 0 && c == Category::platelets && rhd_of(patient) == RhD::positive) continue;
      for (const auto& [expires_at, serial] : shelf->second) {
        const SimUnit& u = units_.at(serial);
        const bool fits = pass == 0   ? u.group == patient
                          : pass == 1 ? rhd_of(u.group) == rhd_of(patient) &&
                                            check_compatible(c, u.group, patient).ok()
                                      : check_compatible(c, u.group, patient).ok();
        if (usable(u) && fits) return serial;
      }
    }
    return 0;
  }

  // The governorate's hospital, which receives what its blood bank issues.
  std::string hospital_of(const std::string& bank) const {
    const std::string h = bank.substr(0, bank.find('-')) + "-HOS";
    const Facility* f = ref_.facility(h);
    return f && f->is(FacilityKind::hospital) ? h : std::string();
  }

  void issue(Category c, AboRh patient) {
    std::discrete_distribution<std::size_t> pick(weights_.begin(), weights_.end());
    std::string bank = banks_[pick(rng_)];
    // Platelets come from the banks that prepare them.
    for (int tries = 0; c == Category::platelets && !platelet_banks_.count(bank) && tries < 20;
         ++tries) {
      bank = banks_[pick(rng_)];
    }
    if (c == Category::platelets && !platelet_banks_.count(bank)) return;
    issue_at(bank, c, patient);
  }

  void issue_at(const std::string& bank, Category c, AboRh patient) {
    const std::string hospital = hospital_of(bank);
    if (hospital.empty()) return;
    const std::uint64_t serial = fefo(c, patient, bank);
    if (serial == 0) return;  // a shortage: the page shows it
    SimUnit& u = units_.at(serial);
    Event e = unit_event(EventType::unit_issued, u);
    e.to = hospital;
    e.patient = "PAT-" + std::to_string(100000 + rng_() % 900000);
    e.patient_abo_rh = patient;
    // Now and then a trauma: group O red cells released before the patient is grouped.
    const bool emergency = c == Category::red_cells && abo_of(u.group) == Abo::o && chance(0.02);
    if (emergency) {
      e.patient_abo_rh = AboRh::unknown;
      e.emergency = true;
      e.reason = "major trauma, no time to group";
      e.approver = "on-call physician";
    }
    send(e);
    count_demand(u, 1);
    set_status(serial, SimStatus::issued);  // off the bank's shelf first
    u.issued_by = u.holder;
    u.holder = hospital;
    u.patient = e.patient;
    if (emergency) {
      Event typed = base(EventType::patient_typed, bank, u.din);
      typed.product = u.product;
      typed.patient = u.patient;
      typed.patient_abo_rh = patient;
      typed.at = e.at;
      send(typed);
    }
    u.returning = chance(0.04);
    u.due = now_ + (u.returning ? wait(1.0 / 6, 1.0 / 6) : wait(1, 3));
    pending_.push({u.due, serial});
  }

  void progress_issued_and_transit() {
    while (!pending_.empty() && pending_.top().first <= now_) {
      const std::uint64_t serial = pending_.top().second;
      pending_.pop();
      auto it = units_.find(serial);
      if (it == units_.end()) continue;
      SimUnit& u = it->second;
      if (u.status == SimStatus::issued) {
        if (u.returning && u.expires_at > u.due) {
          Event e = unit_event(EventType::unit_returned, u);  // by the hospital, to its bank
          e.at = u.due;
          send(e);
          u.holder = u.issued_by;
          count_demand(u, -1);  // on the day it is returned: near enough for par levels
          set_status(serial, SimStatus::available);
        } else {
          Event e = unit_event(EventType::unit_transfused, u);
          e.patient = u.patient;
          send(e);
          // About 1 per 1,000 transfusions, the order of what national
          // haemovigilance systems report.
          if (chance(0.001)) report_reaction(u);
          set_status(serial, SimStatus::final);
        }
      } else if (u.status == SimStatus::in_transit) {
        Event e = base(EventType::transfer_received, u.destination, u.din);
        e.product = u.product;
        send(e);
        --inbound_[{u.destination, u.category, u.group}];
        u.holder = u.destination;
        u.destination.clear();
        set_status(serial, SimStatus::available);
      }
    }
  }

  // Every status change goes through here, to keep the indexes true: the
  // available shelves by (bank, category) in expiry order, and final units
  // leave the model.
  void set_status(std::uint64_t serial, SimStatus next) {
    auto it = units_.find(serial);
    SimUnit& u = it->second;
    if (u.status == SimStatus::available)
      available_[{u.holder, u.category}].erase({u.expires_at, serial});
    if (u.status == SimStatus::available) --available_count_[{u.holder, u.category, u.group}];
    if (u.status == SimStatus::quarantined) --quarantined_[{u.holder, u.category, u.group}];
    u.status = next;
    if (next == SimStatus::available) {
      available_[{u.holder, u.category}].insert({u.expires_at, serial});
      ++available_count_[{u.holder, u.category, u.group}];
      expiries_.push({u.expires_at, serial});  // it may have expired while away
    } else if (next == SimStatus::final) {
      units_.erase(it);
    }
  }

  // Hubs balance red cells of one group among themselves: from the hub with
  // the most days of supply to the one with the fewest, so that both end
  // near the same days.
  void rebalance() {
    const AboRh g = kGroupShares[rng_() % kGroupShares.size()].first;  // rare groups too
    const std::string *lo = nullptr, *hi = nullptr;
    double lo_days = 0, hi_days = 0;
    for (const auto& b : hubs_) {
      const double days = static_cast<double>(held(b, Category::red_cells, g)) /
                          std::max(daily_demand(b, Category::red_cells, g), 1e-3);
      if (!lo || days < lo_days) lo = &b, lo_days = days;
      if (!hi || days > hi_days) hi = &b, hi_days = days;
    }
    if (!lo || lo == hi) return;
    const double lo_rate = daily_demand(*lo, Category::red_cells, g);
    const double hi_rate = daily_demand(*hi, Category::red_cells, g);
    const auto lo_n = held(*lo, Category::red_cells, g), hi_n = held(*hi, Category::red_cells, g);
    const auto target_lo =
        static_cast<std::int64_t>(static_cast<double>(lo_n + hi_n) * lo_rate / (lo_rate + hi_rate));
    if (target_lo - lo_n >= 2) transfer(*hi, *lo, Category::red_cells, g, target_lo - lo_n, false);
  }

  // Sends up to `n` usable available units of a cell from `from` to `to`
  // (the longest-dated first when `fresh`, for a small bank's shelf; else
  // the first to expire); returns how many went.
  std::int64_t transfer(const std::string& from, const std::string& to, Category c, AboRh g,
                        std::int64_t n, bool fresh) {
    std::vector<std::uint64_t> chosen;
    auto& shelf = available_[{from, c}];
    auto pick = [&](const auto& entry) {
      const SimUnit& u = units_.at(entry.second);
      if (static_cast<std::int64_t>(chosen.size()) < n && u.group == g && usable(u) &&
          u.expires_at > now_ + 2 * kDay) {
        chosen.push_back(entry.second);
      }
    };
    if (fresh) {
      std::for_each(shelf.rbegin(), shelf.rend(), pick);
    } else {
      std::for_each(shelf.begin(), shelf.end(), pick);
    }
    for (const std::uint64_t serial : chosen) dispatch(serial, to);
    return static_cast<std::int64_t>(chosen.size());
  }
  void dispatch(std::uint64_t serial, const std::string& to) {
    SimUnit& u = units_.at(serial);
    Event e = unit_event(EventType::transfer_dispatched, u);
    e.to = to;
    send(e);
    set_status(serial, SimStatus::in_transit);
    u.destination = to;
    u.due = now_ + wait(2, 5);
    pending_.push({u.due, serial});
    ++inbound_[{to, u.category, u.group}];
  }

  // Every two simulated hours each small bank's shelves are brought back to
  // par from its hub (or, when the hub has nothing to spare, from the hub of
  // the region with the most), and what it does not stock or holds beyond
  // twice its par goes to its hub. A hub under par asks the same way;
  // platelets move only between the banks that prepare them.
  void resupply() {
    for (const auto& bank : banks_) {
      const std::string& hub = hub_of_[bank];
      const bool is_hub = hub == bank;
      for (const Category c : {Category::red_cells, Category::plasma, Category::platelets}) {
        if (c == Category::platelets && !platelet_banks_.count(bank)) continue;
        for (const auto& [g, share] : kGroupShares) {
          const std::int64_t want = par(bank, c, g), have = held(bank, c, g);
          if (have < want) {
            const bool hub_spares = !is_hub && spare(hub, bank, c, g) > 0;
            const std::string from = hub_spares ? hub : hub_with_most_to_spare(bank, c, g);
            if (from.empty()) continue;
            transfer(from, bank, c, g, std::min(spare(from, bank, c, g), want - have), true);
          } else if (!is_hub && (want == 0 || have > 2 * want + 2)) {
            transfer(bank, hub, c, g, have - want, false);
          }
        }
      }
    }
  }
  // Another hub of `bank`'s region (reachable by neighbours) with units of
  // the cell to spare for it: the one with the most; empty if none.
  std::string hub_with_most_to_spare(const std::string& bank, Category c, AboRh g) const {
    std::string best;
    std::int64_t most = 0;
    for (const auto& other : hubs_) {
      if (other == bank || region_of_.at(other) != region_of_.at(bank)) continue;
      const std::int64_t n = spare(other, bank, c, g);
      if (n > most) best = other, most = n;
    }
    return best;
  }
  // Units `from` can give `to`: its units beyond its par, or, when short
  // itself, as many as leave both with the same days of supply (a shortage
  // is shared, not left to the smaller bank).
  std::int64_t spare(const std::string& from, const std::string& to, Category c, AboRh g) const {
    const std::int64_t have = held(from, c, g), other = held(to, c, g);
    const double rf = daily_demand(from, c, g), rt = daily_demand(to, c, g);
    const auto fair = static_cast<std::int64_t>(
        std::floor((static_cast<double>(have) * rt - static_cast<double>(other) * rf) / (rf + rt)));
    return std::max<std::int64_t>({0, have - par(from, c, g), fair});
  }

  // The hub that supplies `bank`: itself if it prepares platelets, else the
  // nearest one by neighbouring governorates (the more populous on a tie);
  // itself when none is reachable.
  std::string nearest_hub(const std::string& bank) const {
    if (hubs_.count(bank)) return bank;
    std::map<std::string, std::string> bank_of;  // governorate -> its bank
    for (const auto& b : banks_) bank_of[ref_.facility(b)->governorate] = b;
    std::vector<std::string> frontier{ref_.facility(bank)->governorate};
    std::set<std::string> seen(frontier.begin(), frontier.end());
    while (!frontier.empty()) {
      std::vector<std::string> next;
      for (const auto& gov : frontier) {
        for (const auto& n : ref_.neighbours(gov)) {
          if (seen.insert(n).second) next.push_back(n);
        }
      }
      std::string best;
      for (const auto& gov : next) {
        auto b = bank_of.find(gov);
        if (b != bank_of.end() && hubs_.count(b->second) &&
            (best.empty() || weight_of_.at(b->second) > weight_of_.at(best))) {
          best = b->second;
        }
      }
      if (!best.empty()) return best;
      frontier = std::move(next);
    }
    return bank;
  }

  // The first bank, in the feed's order, of the banks reachable from `bank`
  // through neighbouring governorates: names its region.
  std::string region(const std::string& bank) const {
    std::set<std::string> seen{ref_.facility(bank)->governorate};
    std::vector<std::string> frontier(seen.begin(), seen.end());
    while (!frontier.empty()) {
      std::vector<std::string> next;
      for (const auto& gov : frontier) {
        for (const auto& n : ref_.neighbours(gov)) {
          if (seen.insert(n).second) next.push_back(n);
        }
      }
      frontier = std::move(next);
    }
    for (const auto& b : banks_) {
      if (seen.count(ref_.facility(b)->governorate)) return b;
    }
    return bank;
  }

  // Par levels. Demand a bank expects per day for a cell (patients of the
  // group: the feed's own rates and the bank's share of them).
  double expected_demand(const std::string& bank, Category c, AboRh g) const {
    double share = 0;
    if (c == Category::platelets) {
      if (platelet_banks_.count(bank)) share = weight_of_.at(bank) / platelet_weight_;
    } else {
      share = weight_of_.at(bank) / total_weight_;
    }
    const double per_donation = c == Category::red_cells ? opt_.red_cell_demand : 0.15;
    double group_share = 0;
    for (const auto& [group, per_mille] : kGroupShares) {
      if (group == g) group_share = per_mille / 1000.0;
    }
    return opt_.donations_per_hour * 24 * per_donation * share * group_share;
  }
  // Demand the bank saw per day over the alerts' window (the engine's days of
  // supply), or the expected demand if larger.
  double daily_demand(const std::string& bank, Category c, AboRh g) const {
    const double seen = static_cast<double>(demand_in_window(bank, c, g));
    return std::max(seen / opt_.supply.window_days, expected_demand(bank, c, g));
  }
  // The same per day since the feed began (within the window), or expected.
  double used_per_day(const std::string& bank, Category c, AboRh g) const {
    const double days = std::clamp(static_cast<double>(now_ - first_) / kDay, 1.0,
                                   static_cast<double>(opt_.supply.window_days));
    const double seen = static_cast<double>(demand_in_window(bank, c, g));
    return std::max(seen / days, expected_demand(bank, c, g));
  }
  std::int64_t demand_in_window(const std::string& bank, Category c, AboRh g) const {
    const std::int64_t today = day_of(now_);
    std::int64_t seen = 0;
    auto it = demand_.find({bank, c, g});
    if (it == demand_.end()) return 0;
    for (auto d = it->second.lower_bound(today - opt_.supply.window_days); d != it->second.end();
         ++d) {
      if (d->first < today) seen += d->second;
    }
    return seen;
  }
  // A bank stocks a group of a component if its patients are expected to use
  // about a unit of it a week (platelets: two within their shelf life), or
  // if it had demand for it within the alerts' demand memory (a discard
  // counts), and then keeps days of supply past the Pre-Amber threshold's
  // recovery mark, at least two units. Rare groups are thus kept at the
  // hubs, and a small bank's patients of such a group get a compatible unit.
  std::int64_t par(const std::string& bank, Category c, AboRh g) const {
    const bool platelets = c == Category::platelets;
    const double use = expected_demand(bank, c, g) * (platelets ? 5 : opt_.supply.window_days);
    auto seen = demand_.find({bank, c, g});
    const double enough = platelets ? 2 : opt_.supply.window_days / 7.0;
    if (use < enough && (seen == demand_.end() || seen->second.empty())) return 0;
    // Platelets need more margin (a unit spends hours in production, and
    // issues come in bursts), but no more than four days of what is really
    // used: the alerts' window counts days before the feed began as empty.
    const double mark = opt_.supply.thresholds_for(c).pre_amber * opt_.supply.recover_factor;
    double units = mark * (platelets ? 1.5 : 1.2) * daily_demand(bank, c, g);
    if (platelets) units = std::min(units, 4 * used_per_day(bank, c, g));
    return std::max<std::int64_t>(2, static_cast<std::int64_t>(std::ceil(units)));
  }
  // Units of a cell a bank holds or will hold: available, in production
  // (quarantined) and on their way to it.
  std::int64_t held(const std::string& bank, Category c, AboRh g) const {
    auto count = [&](const auto& m) {
      auto it = m.find({bank, c, g});
      return it == m.end() ? 0 : it->second;
    };
    return count(available_count_) + count(quarantined_) + count(inbound_);
  }
  // Demand as the engine counts it: a unit issued, expired or discarded, at
  // its bank, on the day (a return takes it back).
  void count_demand(const SimUnit& u, int change) {
    auto& days = demand_[{u.holder, u.category, u.group}];
    if ((days[day_of(now_)] += change) == 0) days.erase(day_of(now_));
    days.erase(days.begin(), days.lower_bound(day_of(now_) - opt_.supply.demand_memory_days));
    if (days.empty()) demand_.erase({u.holder, u.category, u.group});
  }

  // The engine's expiry ticker expires units whose expiry has passed on the
  // engine's clock; simulated time may run ahead of it, and then the feed records
  // the expiry itself, with the same event (and id), so it counts once.
  void expire() {
    const TimeMs wall = opt_.clock.now();
    while (!expiries_.empty() && expiries_.top().first <= std::max(wall, now_)) {
      const std::uint64_t serial = expiries_.top().second;
      expiries_.pop();
      auto it = units_.find(serial);
      if (it == units_.end()) continue;
      const SimUnit& u = it->second;
      if (u.status != SimStatus::available && u.status != SimStatus::quarantined) continue;
      // Not yet expired if it came back from a hospital or a transfer with a
      // later entry; only the entry at its own expiry acts.
      if (u.expires_at > std::max(wall, now_)) continue;
      if (u.expires_at > wall) send(expiry_event(u.din, u.product, u.holder, u.expires_at));
      count_demand(u, 1);
      set_status(serial, SimStatus::final);  // at or before the wall clock the engine emits it
    }
  }

  // A transfusion reaction now and then, mostly febrile or allergic, TRALI
  // rare (haemovigilance): 45 % febrile, 40 % allergic, 13 % TACO, 2 % TRALI.
  void report_reaction(const SimUnit& u) {
    Event e = unit_event(EventType::transfusion_reaction, u);
    e.patient = u.patient;
    e.onset_at = now_;
    const auto roll = rng_() % 100;
    e.reaction = roll < 45   ? ReactionCategory::febrile
                 : roll < 85 ? ReactionCategory::allergic
                 : roll < 98 ? ReactionCategory::taco
                             : ReactionCategory::trali;
    // Most reported reactions are non-severe (about 1 in 12 severe).
    e.severity = chance(0.08) ? ReactionSeverity::severe : ReactionSeverity::non_severe;
    e.imputability = Imputability::probable;
    send(e);
  }

  // Units this close to expiry on either clock are left alone.
  bool usable(const SimUnit& u) const {
    return u.expires_at > std::max(now_, opt_.clock.now()) + kHour;
  }

  void unsafe_issue() {
    for (auto& [serial, u] : units_) {
      if (u.status == SimStatus::quarantined) {
        spdlog::info("demo: trying to issue quarantined unit {} {} (the engine must refuse)", u.din,
                     u.product);
        send(unit_event(EventType::unit_issued, u));
        return;
      }
    }
  }

  const ReferenceData& ref_;
  const DemoFeed::Sink& sink_;
  DemoOptions opt_;
  std::mt19937_64 rng_;
  TimeMs now_ = 0;
  TimeMs first_ = 0;      // where simulated time started
  TimeMs clock_now_ = 0;  // the clock at this tick: no event is dated after it
  double pace_ =
      1.0;  // waits between steps: 1 while catching up, then real time per simulated time
  std::string run_id_;
  int sequence_ = 0;
  std::uint64_t event_counter_ = 0;
  std::vector<std::string> banks_;
  std::vector<int> weights_;
  std::set<std::string> hubs_;            // the larger third: supply the others
  std::set<std::string> platelet_banks_;  // the largest of each region
  std::uint64_t donors_ = 0;
  std::map<std::string, double> weight_of_;  // bank -> population weight
  double total_weight_ = 0, platelet_weight_ = 0;
  std::map<std::string, std::string> hub_of_;     // bank -> the hub that supplies it
  std::map<std::string, std::string> region_of_;  // bank -> its region's first bank
  TimeMs last_resupply_ = 0;
  std::vector<SimDonation> donations_;  // until released
  // Units not yet final, by serial (creation order), with their indexes.
  std::map<std::uint64_t, SimUnit> units_;
  std::uint64_t unit_serial_ = 0;
  std::map<std::pair<std::string, Category>, std::set<std::pair<TimeMs, std::uint64_t>>>
      available_;      // (bank, category) -> (expires_at, serial) of available units
  DueQueue expiries_;  // each unit at its expiry (and again when it becomes available)
  DueQueue pending_;   // issued and in-transit units at their next step
  std::map<std::pair<std::string, std::string>, SimStore> stores_;  // (lab, reagent)
  using Cell = std::tuple<std::string, Category, AboRh>;            // bank, category, group
  std::map<Cell, std::int64_t> available_count_;                    // available units at a bank
  std::map<Cell, std::int64_t> quarantined_;                        // units in production at a bank
  std::map<Cell, std::int64_t> inbound_;                            // units in transit to a bank
  std::map<Cell, std::map<std::int64_t, std::int64_t>> demand_;     // per day, as the engine counts
};

}  // namespace

DemoFeed::DemoFeed(const ReferenceData& ref, Producer& producer, std::string topic,
                   DemoOptions options)
    : ref_(ref),
      sink_([&producer, topic = std::move(topic)](std::string_view key, std::string_view value) {
        return producer.produce(topic, key, value);
      }),
      flush_([&producer] { producer.flush(5000); }),
      options_(options) {}

DemoFeed::DemoFeed(const ReferenceData& ref, Sink sink, DemoOptions options)
    : ref_(ref), sink_(std::move(sink)), options_(options) {}

void DemoFeed::run(const std::atomic<bool>& stop) {
  Simulation sim(ref_, sink_, options_);
  const double tps = options_.ticks_per_second > 0 ? options_.ticks_per_second : 4;
  const TimeMs step = static_cast<TimeMs>(options_.hours_per_second * kHour / tps);
  const TimeMs catch_up_step =
      options_.catch_up_hours_per_second > 0
          ? static_cast<TimeMs>(options_.catch_up_hours_per_second * kHour / tps)
          : step;
  const auto real_ms = static_cast<TimeMs>(1000 / tps);
  while (!stop.load()) {
    sim.tick(sim.catching_up() ? catch_up_step : step, real_ms, step);
    produced_ = sim.produced;
    if (options_.max_events && sim.produced >= options_.max_events) break;
    if (options_.ticks_per_second > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(1000 / tps)));
    }
  }
  if (flush_) flush_();
}

}  // namespace hemoledger
