#include "projections/reagents.h"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <cstdio>
#include <sstream>

#include "projections/demand.h"

namespace hemoledger {

namespace {

constexpr std::uint8_t kLotFormat = 1;

Error reject(std::string code, std::string message) {
  return make_error(std::move(code), std::move(message));
}

std::string lot_name(const Event& e) { return "Lot " + e.lot + " of " + e.reagent; }


}  // namespace

std::int64_t ReagentLot::total() const {
  std::int64_t n = 0;
  for (const auto& [f, q] : on_hand) n += q;
  return n;
}

std::string encode_usage_key(const ReagentUsageKey& k) {
  char day[16];
  std::snprintf(day, sizeof day, "%08lld", static_cast<long long>(k.day));
  return std::string(day) + "|" + k.facility + "|" + k.reagent;
}

Result<ReagentUsageKey> decode_usage_key(std::string_view text) {
  const auto a = text.find('|');
  const auto b = a == std::string_view::npos ? a : text.find('|', a + 1);
  ReagentUsageKey k;
  if (a != 8 || b == std::string_view::npos) {
    return make_error("corrupt_state", "A stored reagent usage key is damaged.");
  }
  for (char c : text.substr(0, 8)) {
    if (c < '0' || c > '9') return make_error("corrupt_state", "A stored reagent usage key is damaged.");
    k.day = k.day * 10 + (c - '0');
  }
  k.facility = std::string(text.substr(a + 1, b - a - 1));
  k.reagent = std::string(text.substr(b + 1));
  return k;
}

std::string reagent_lot_key(std::string_view reagent, std::string_view lot) {
  return std::string(reagent) + "|" + std::string(lot);
}

Result<ReagentApplied> apply_reagent_event(const ReferenceData& ref, const ReagentLot* before,
                                           const Event& e) {
  const ReagentCatalogue& catalogue = ref.reagents();
  if (!ref.facility(e.facility)) {
    return reject("unknown_facility", "The facility " + e.facility + " is not a known facility.");
  }
  const ReagentDef* def = catalogue.find(e.reagent);
  if (!def) {
    return reject("unknown_reagent", "The reagent '" + e.reagent +
                                         "' is not in the reagent catalogue (data/reagents.csv).");
  }
  if (!before && e.type != EventType::reagent_received) {
    return reject("unknown_lot", lot_name(e) + " has not been received anywhere.");
  }
  ReagentApplied out;
  out.after = before ? *before : ReagentLot{e.reagent, e.lot, e.expires_at, false, {}, {}};
  ReagentLot& lot = out.after;
  const std::string unit = def->unit;
  std::string detail;
  auto held = [&](const std::string& f) {
    auto it = lot.on_hand.find(f);
    return it == lot.on_hand.end() ? std::int64_t{0} : it->second;
  };
  auto take = [&](const std::string& f, std::int64_t q) -> Status {
    if (held(f) < q) {
      return reject("insufficient_reagent",
                    f + " holds " + std::to_string(held(f)) + " " + unit + " of lot " + e.lot +
                        " of " + e.reagent + ", fewer than the " + std::to_string(q) +
                        " recorded.");
    }
    if ((lot.on_hand[f] -= q) == 0) lot.on_hand.erase(f);
    return {};
  };
  const bool past_expiry = e.at >= lot.expires_at;
  if (lot.expired && e.type != EventType::reagent_discarded) {
    return reject("reagent_expired", lot_name(e) + " expired on " +
                                         format_rfc3339(lot.expires_at) +
                                         "; it must not be used or moved.");
  }
  switch (e.type) {
    case EventType::reagent_received:
      if (before && before->expires_at != e.expires_at) {
        return reject("lot_expiry_mismatch",
                      lot_name(e) + " was received before with the expiry " +
                          format_rfc3339(before->expires_at) + "; one lot has one expiry.");
      }
      if (e.expires_at <= e.at) {
        return reject("reagent_expired", lot_name(e) + " is already past its expiry (" +
                                             format_rfc3339(e.expires_at) +
                                             "); it must not be received for use.");
      }
      lot.on_hand[e.facility] += e.quantity;
      detail = std::to_string(e.quantity) + " " + unit + " received";
      break;
    case EventType::reagent_consumed:
      if (past_expiry) {
        return reject("reagent_expired", lot_name(e) + " expired on " +
                                             format_rfc3339(lot.expires_at) +
                                             "; results from it cannot be trusted.");
      }
      if (auto s = take(e.facility, e.quantity); !s) return s.error();
      out.usage.push_back({{day_of(e.at), e.facility, e.reagent}, e.quantity});
      detail = std::to_string(e.quantity) + " " + unit + " used";
      if (!e.din.empty()) detail += " for " + e.din + (e.test.empty() ? "" : " " + e.test);
      break;
    case EventType::reagent_transferred:
      if (!ref.facility(e.to)) {
        return reject("unknown_destination", "The destination " + e.to + " is not a known facility.");
      }
      if (e.to == e.facility) {
        return reject("same_facility", "A transfer must go to another facility than " +
                                           e.facility + ".");
      }
      if (past_expiry) {
        return reject("reagent_expired", lot_name(e) + " expired on " +
                                             format_rfc3339(lot.expires_at) +
                                             "; it must not be sent anywhere.");
      }
      if (auto s = take(e.facility, e.quantity); !s) return s.error();
      lot.on_hand[e.to] += e.quantity;
      detail = std::to_string(e.quantity) + " " + unit + " to " + e.to;
      break;
    case EventType::reagent_discarded:
      if (auto s = take(e.facility, e.quantity); !s) return s.error();
      detail = std::to_string(e.quantity) + " " + unit + " discarded" +
               (e.reason.empty() ? "" : ": " + e.reason);
      break;
    case EventType::reagent_expired:
      if (!past_expiry) {
        return reject("not_yet_expired", lot_name(e) + " expires only on " +
                                             format_rfc3339(lot.expires_at) + ".");
      }
      detail = std::to_string(lot.total()) + " " + unit + " left expired";
      lot.on_hand.clear();
      lot.expired = true;
      break;
    default:
      return reject("unknown_type", "This event type does not act on a reagent lot.");
  }
  lot.history.push_back({e.id, e.type, e.at, e.facility, e.quantity, detail});
  return out;
}

template <class Archive>
void serialize(Archive& ar, ReagentHistory& h) {
  ar(h.event_id, h.type, h.at, h.facility, h.quantity, h.detail);
}

template <class Archive>
void serialize(Archive& ar, ReagentLot& l) {
  ar(l.reagent, l.lot, l.expires_at, l.expired, l.on_hand, l.history);
}

std::string encode_reagent_lot(const ReagentLot& lot) {
  std::ostringstream out(std::ios::binary);
  out.put(static_cast<char>(kLotFormat));
  {
    cereal::PortableBinaryOutputArchive ar(
        out, cereal::PortableBinaryOutputArchive::Options::LittleEndian());
    ar(lot);
  }
  return std::move(out).str();
}

Result<ReagentLot> decode_reagent_lot(std::string_view bytes) {
  if (bytes.empty() || static_cast<std::uint8_t>(bytes[0]) != kLotFormat) {
    return make_error("corrupt_state", "A stored reagent lot has an unknown format.");
  }
  std::istringstream in(std::string(bytes.substr(1)), std::ios::binary);
  ReagentLot lot;
  try {
    cereal::PortableBinaryInputArchive ar(in);
    ar(lot);
  } catch (const std::exception& ex) {
    return make_error("corrupt_state", std::string("A stored reagent lot cannot be read: ") + ex.what());
  }
  return lot;
}

std::vector<IndexEntry> reagent_index_entries(const ReagentLot& lot) {
  if (lot.expired || lot.on_hand.empty()) return {};
  return {IndexEntry{'y', decimal20(lot.expires_at) + "|" + reagent_lot_key(lot.reagent, lot.lot),
                     lot.on_hand.begin()->first}};
}

Event reagent_expiry_event(const ReagentLot& lot, const std::string& facility) {
  Event e;
  e.id = "reagent-expiry-" + lot.reagent + "-" + lot.lot;
  e.type = EventType::reagent_expired;
  e.at = lot.expires_at;
  e.facility = facility;
  e.actor = "hemoledger";
  e.station = "expiry";
  e.reagent = lot.reagent;
  e.lot = lot.lot;
  return e;
}

}  // namespace hemoledger
