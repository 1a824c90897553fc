#include "engine/cli/demo_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
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
    // The larger banks prepare platelets (a third of them, at least one).
    std::vector<std::size_t> order(banks_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return weights_[a] > weights_[b]; });
    for (std::size_t i = 0; i < std::max<std::size_t>(1, order.size() / 3); ++i) {
      if (!order.empty()) platelet_banks_.insert(banks_[order[i]]);
    }
    // Reagent lots sized to the labs' work (the default feed's lots at 1.2 donations an hour).
    lot_scale_ = std::max(1.0, o.donations_per_hour / 1.2);
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
      d.units.push_back(serial);
    };
    produce("E0382V00", Category::red_cells);
    if (chance(0.8)) produce("E2555V00", Category::plasma);
    if (platelet_banks_.count(d.facility) && chance(0.5)) produce("E3045V00", Category::platelets);
    donations_.push_back(d);
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
          use_reagents(where, test, d.din);
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
            set_status(serial, SimStatus::final);
          } else {
            send(unit_event(EventType::unit_released, u));
            set_status(serial, SimStatus::available);
          }
        }
      }
    }
    std::erase_if(donations_, [](const SimDonation& d) { return d.released; });
  }

  // Each test uses one test of a reagent kit at the lab; a lab reorders when
  // it runs low, sometimes late, so that cover and expiry alerts happen.
  struct SimLot {
    std::string lot;
    std::int64_t left = 0;
    TimeMs expires_at = 0;
  };
  void use_reagents(const std::string& lab, const std::string& test, const std::string& din) {
    static const std::map<std::string, std::vector<std::string>> kUses = {
        {"abo", {"anti-A", "anti-B"}}, {"rhd", {"anti-D"}},    {"hiv", {"hiv-elisa"}},
        {"hbv", {"hbsag-elisa"}},      {"hcv", {"hcv-elisa"}}, {"syphilis", {"syphilis-elisa"}}};
    auto it = kUses.find(test);
    if (it == kUses.end()) return;
    for (const auto& reagent : it->second) {
      if (!ref_.reagents().find(reagent)) continue;
      SimLot& lot = lots_[{lab, reagent}];
      const TimeMs latest = std::max(now_, opt_.clock.now());
      if (lot.expires_at <= latest + kHour) {
        receive_lot(lab, reagent, lot);  // the first lot, or the next after expiry
      } else if (lot.left <= 0 && chance(0.3)) {
        receive_lot(lab, reagent, lot);  // out of stock until the delivery comes
      } else if (lot.left > 0 && lot.left < 15 * lot_scale_ && chance(0.05)) {
        receive_lot(lab, reagent, lot);  // the reorder arrives
      }
      if (lot.left <= 0) continue;
      Event e = base(EventType::reagent_consumed, lab, "");
      e.reagent = reagent;
      e.lot = lot.lot;
      e.quantity = 1;
      e.din = din;
      e.test = test;
      send(e);
      --lot.left;
    }
  }
  void receive_lot(const std::string& lab, const std::string& reagent, SimLot& lot) {
    lot.lot = "L" + std::to_string(100000 + rng_() % 900000);
    lot.left = static_cast<std::int64_t>((40 + static_cast<double>(rng_() % 160)) * lot_scale_);
    // Expiry on both clocks: the engine's ticker expires lots on the engine's clock.
    lot.expires_at = std::max(now_, opt_.clock.now()) +
                     (lot_scale_ > 1 ? hours(24 * 45, 24 * 240) : hours(24 * 10, 24 * 120));
    Event e = base(EventType::reagent_received, lab, "");
    e.reagent = reagent;
    e.lot = lot.lot;
    e.quantity = static_cast<std::int32_t>(lot.left);
    e.expires_at = lot.expires_at;
    send(e);
  }

  // The compatible usable unit of category `c` at `bank` that expires first.
  // The patient's own group first, as banks issue; a compatible one otherwise.
  std::uint64_t fefo(Category c, AboRh patient, const std::string& bank) {
    auto shelf = available_.find({bank, c});
    if (shelf == available_.end()) return 0;
    for (const bool identical : {true, false}) {
      for (const auto& [expires_at, serial] : shelf->second) {
        const SimUnit& u = units_.at(serial);
        if (usable(u) &&
            (identical ? u.group == patient : check_compatible(c, u.group, patient).ok())) {
          return serial;
        }
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
          set_status(serial, SimStatus::available);
        } else {
          Event e = unit_event(EventType::unit_transfused, u);
          e.patient = u.patient;
          send(e);
          if (chance(0.002)) report_reaction(u);  // about 2 per 1,000 transfusions
          set_status(serial, SimStatus::final);
        }
      } else if (u.status == SimStatus::in_transit) {
        Event e = base(EventType::transfer_received, u.destination, u.din);
        e.product = u.product;
        send(e);
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
    u.status = next;
    if (next == SimStatus::available) {
      available_[{u.holder, u.category}].insert({u.expires_at, serial});
      expiries_.push({u.expires_at, serial});  // it may have expired while away
    } else if (next == SimStatus::final) {
      units_.erase(it);
    }
  }

  // Moves red cells of one group from the bank with most to the one with fewest.
  void rebalance() {
    const AboRh g = kGroupShares[rng_() % kGroupShares.size()].first;  // rare groups too
    std::map<std::string, int> count;
    for (const auto& b : banks_) {
      int& n = count[b];
      n = 0;
      for (const auto& [expires_at, serial] : available_[{b, Category::red_cells}]) {
        if (units_.at(serial).group == g) ++n;
      }
    }
    auto [lo, hi] = std::minmax_element(count.begin(), count.end(),
                                        [](auto& a, auto& b) { return a.second < b.second; });
    if (hi->second - lo->second < 2) return;
    int move = (hi->second - lo->second + 1) / 2;
    std::vector<std::uint64_t> chosen;
    for (const auto& [expires_at, serial] : available_[{hi->first, Category::red_cells}]) {
      if (static_cast<int>(chosen.size()) == move) break;
      const SimUnit& u = units_.at(serial);
      if (u.group == g && usable(u)) chosen.push_back(serial);
    }
    for (const std::uint64_t serial : chosen) {
      SimUnit& u = units_.at(serial);
      Event e = unit_event(EventType::transfer_dispatched, u);
      e.to = lo->first;
      send(e);
      set_status(serial, SimStatus::in_transit);
      u.destination = lo->first;
      u.due = now_ + wait(2, 5);
      pending_.push({u.due, serial});
    }
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
    e.severity = chance(0.2) ? ReactionSeverity::severe : ReactionSeverity::non_severe;
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
  std::set<std::string> platelet_banks_;
  std::uint64_t donors_ = 0;
  double lot_scale_ = 1;
  std::vector<SimDonation> donations_;  // until released
  // Units not yet final, by serial (creation order), with their indexes.
  std::map<std::uint64_t, SimUnit> units_;
  std::uint64_t unit_serial_ = 0;
  std::map<std::pair<std::string, Category>, std::set<std::pair<TimeMs, std::uint64_t>>>
      available_;      // (bank, category) -> (expires_at, serial) of available units
  DueQueue expiries_;  // each unit at its expiry (and again when it becomes available)
  DueQueue pending_;   // issued and in-transit units at their next step
  std::map<std::pair<std::string, std::string>, SimLot> lots_;  // (lab, reagent)
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
