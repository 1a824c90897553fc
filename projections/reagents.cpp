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
    if (c < '0' || c > '9')
      return make_error("corrupt_state", "A stored reagent usage key is damaged.");
    k.day = k.day * 10 + (c - '0');
  }
  k.facility = std::string(text.substr(a + 1, b - a - 1));
  k.reagent = std::string(text.substr(b + 1));
  return k;
}

std::string reagent_lot_key(std::string_view reagent, std::string_view lot) {
  return std::string(reagent) + "|" + std::string(lot);
}

namespace {

// Takes the event's quantity from what its facility holds of the lot.
Status take(ReagentLot& lot, const Event& e, const std::string& unit) {
  auto it = lot.on_hand.find(e.facility);
  const std::int64_t held = it == lot.on_hand.end() ? 0 : it->second;
  if (held < e.quantity) {
    return reject("insufficient_reagent", e.facility + " holds " + std::to_string(held) + " " +
                                              unit + " of lot " + e.lot + " of " + e.reagent +
                                              ", fewer than the " + std::to_string(e.quantity) +
                                              " recorded.");
  }
  if ((lot.on_hand[e.facility] -= e.quantity) == 0) lot.on_hand.erase(e.facility);
  return {};
}

// One function per reagent event type, acting on `lot` (the lot as it will be).

Status receive_lot(const ReagentLot* before, ReagentLot& lot, const Event& e,
                   const std::string& unit, std::string& detail) {
  if (before && before->expires_at != e.expires_at) {
    return reject("lot_expiry_mismatch", lot_name(e) + " was received before with the expiry " +
                                             format_rfc3339(before->expires_at) +
                                             "; one lot has one expiry.");
  }
  if (e.expires_at <= e.at) {
    return reject("reagent_expired", lot_name(e) + " is already past its expiry (" +
                                         format_rfc3339(e.expires_at) +
                                         "); it must not be received for use.");
  }
  lot.on_hand[e.facility] += e.quantity;
  detail = std::to_string(e.quantity) + " " + unit + " received";
  return {};
}

Status consume_lot(ReagentApplied& out, const Event& e, const std::string& unit,
                   std::string& detail) {
  ReagentLot& lot = out.after;
  if (e.at >= lot.expires_at) {
    return reject("reagent_expired", lot_name(e) + " expired on " + format_rfc3339(lot.expires_at) +
                                         "; results from it cannot be trusted.");
  }
  if (auto s = take(lot, e, unit); !s) return s;
  out.usage.push_back({{day_of(e.at), e.facility, e.reagent}, e.quantity});
  detail = std::to_string(e.quantity) + " " + unit + " used";
  if (!e.din.empty()) detail += " for " + e.din + (e.test.empty() ? "" : " " + e.test);
  return {};
}

Status transfer_lot(const ReferenceData& ref, ReagentLot& lot, const Event& e,
                    const std::string& unit, std::string& detail) {
  if (!ref.facility(e.to)) {
    return reject("unknown_destination", "The destination " + e.to + " is not a known facility.");
  }
  if (e.to == e.facility) {
    return reject("same_facility",
                  "A transfer must go to another facility than " + e.facility + ".");
  }
  if (e.at >= lot.expires_at) {
    return reject("reagent_expired", lot_name(e) + " expired on " + format_rfc3339(lot.expires_at) +
                                         "; it must not be sent anywhere.");
  }
  if (auto s = take(lot, e, unit); !s) return s;
  lot.on_hand[e.to] += e.quantity;
  detail = std::to_string(e.quantity) + " " + unit + " to " + e.to;
  return {};
}

Status discard_lot(ReagentLot& lot, const Event& e, const std::string& unit, std::string& detail) {
  if (auto s = take(lot, e, unit); !s) return s;
  detail = std::to_string(e.quantity) + " " + unit + " discarded" +
           (e.reason.empty() ? "" : ": " + e.reason);
  return {};
}

Status expire_lot(ReagentLot& lot, const Event& e, const std::string& unit, std::string& detail) {
  if (e.at < lot.expires_at) {
    return reject("not_yet_expired",
                  lot_name(e) + " expires only on " + format_rfc3339(lot.expires_at) + ".");
  }
  detail = std::to_string(lot.total()) + " " + unit + " left expired";
  lot.on_hand.clear();
  lot.expired = true;
  return {};
}

// What every reagent event is checked for first: a known facility, a known
// reagent and a lot that was received.
Status precheck_reagent(const ReferenceData& ref, const ReagentLot* before, const Event& e) {
  if (!ref.facility(e.facility)) {
    return reject("unknown_facility", "The facility " + e.facility + " is not a known facility.");
  }
  if (!ref.reagents().find(e.reagent)) {
    return reject("unknown_reagent", "The reagent '" + e.reagent +
                                         "' is not in the reagent catalogue (data/reagents.csv).");
  }
  if (!before && e.type != EventType::reagent_received) {
    return reject("unknown_lot", lot_name(e) + " has not been received anywhere.");
  }
  return {};
}

}  // namespace

Result<ReagentApplied> apply_reagent_event(const ReferenceData& ref, const ReagentLot* before,
                                           const Event& e) {
  if (auto s = precheck_reagent(ref, before, e); !s) return s.error();
  ReagentApplied out;
  out.after = before ? *before : ReagentLot{e.reagent, e.lot, e.expires_at, false, {}, {}};
  ReagentLot& lot = out.after;
  const std::string unit = ref.reagents().find(e.reagent)->unit;
  if (lot.expired && e.type != EventType::reagent_discarded) {
    return reject("reagent_expired", lot_name(e) + " expired on " + format_rfc3339(lot.expires_at) +
                                         "; it must not be used or moved.");
  }
  std::string detail;
  Status s;
  switch (e.type) {
    case EventType::reagent_received:
      s = receive_lot(before, lot, e, unit, detail);
      break;
    case EventType::reagent_consumed:
      s = consume_lot(out, e, unit, detail);
      break;
    case EventType::reagent_transferred:
      s = transfer_lot(ref, lot, e, unit, detail);
      break;
    case EventType::reagent_discarded:
      s = discard_lot(lot, e, unit, detail);
      break;
    case EventType::reagent_expired:
      s = expire_lot(lot, e, unit, detail);
      break;
    default:
      return reject("unknown_type", "This event type does not act on a reagent lot.");
  }
  if (!s) return s.error();
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
    return make_error("corrupt_state",
                      std::string("A stored reagent lot cannot be read: ") + ex.what());
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
