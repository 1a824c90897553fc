#include "events/event.h"

#include <array>
#include <cctype>

namespace hemoledger {

namespace {

constexpr std::uint32_t bits(std::initializer_list<Field> fs) {
  std::uint32_t b = 0;
  for (Field f : fs) b |= static_cast<std::uint32_t>(f);
  return b;
}

struct TypeInfo {
  EventType type;
  std::string_view name;
  std::uint32_t required;
  std::uint32_t optional;
};

using F = Field;
// The one table of event kinds and their fields. docs/events.md mirrors it.
constexpr std::array<TypeInfo, kEventTypeCount> kTypes = {{
    {EventType::donation_collected, "DonationCollected", bits({F::din, F::donor}),
     bits({F::abo_rh, F::volume_ml, F::sex})},
    {EventType::component_produced, "ComponentProduced", bits({F::din, F::product}),
     bits({F::expires_at, F::volume_ml})},
    {EventType::test_resulted, "TestResulted", bits({F::din, F::test, F::result}),
     bits({F::method})},
    {EventType::unit_released, "UnitReleased", bits({F::din, F::product}), 0},
    {EventType::unit_quarantined, "UnitQuarantined", bits({F::din, F::product}), bits({F::reason})},
    {EventType::transfer_dispatched, "TransferDispatched", bits({F::din, F::product, F::to}), 0},
    {EventType::transfer_received, "TransferReceived", bits({F::din, F::product}), 0},
    {EventType::unit_reserved, "UnitReserved", bits({F::din, F::product}),
     bits({F::patient_abo_rh, F::patient})},
    {EventType::reservation_released, "ReservationReleased", bits({F::din, F::product}), 0},
    {EventType::unit_issued, "UnitIssued", bits({F::din, F::product}),
     bits({F::patient_abo_rh, F::patient, F::to, F::emergency, F::approver, F::reason})},
    {EventType::unit_returned, "UnitReturned", bits({F::din, F::product}), bits({F::to})},
    {EventType::unit_transfused, "UnitTransfused", bits({F::din, F::product}),
     bits({F::patient, F::approver, F::reason})},
    {EventType::unit_discarded, "UnitDiscarded", bits({F::din, F::product, F::reason}), 0},
    {EventType::unit_expired, "UnitExpired", bits({F::din, F::product}), 0},
    {EventType::unit_recalled, "UnitRecalled", bits({F::din, F::product, F::test}),
     bits({F::reason})},
    {EventType::reagent_received, "ReagentReceived",
     bits({F::reagent, F::lot, F::quantity, F::expires_at}), 0},
    {EventType::reagent_consumed, "ReagentConsumed", bits({F::reagent, F::lot, F::quantity}),
     bits({F::din, F::test})},
    {EventType::reagent_transferred, "ReagentTransferred",
     bits({F::reagent, F::lot, F::quantity, F::to}), 0},
    {EventType::reagent_discarded, "ReagentDiscarded", bits({F::reagent, F::lot, F::quantity}),
     bits({F::reason})},
    {EventType::reagent_expired, "ReagentExpired", bits({F::reagent, F::lot}), 0},
    {EventType::clock_ticked, "ClockTicked", 0, 0},
    {EventType::donor_deferred, "DonorDeferred", bits({F::donor, F::reason}), bits({F::until})},
    {EventType::deferred_donor_collected, "DeferredDonorCollected",
     bits({F::din, F::donor, F::reason}), bits({F::until})},
    {EventType::typing_resolved, "TypingResolved", bits({F::din, F::abo_rh}), bits({F::reason})},
    {EventType::recipient_notified, "RecipientNotified", bits({F::din, F::product}),
     bits({F::reason})},
    {EventType::unit_thawed, "UnitThawed", bits({F::din, F::product}), bits({F::expires_at})},
    {EventType::patient_typed, "PatientTyped", bits({F::din, F::product, F::patient_abo_rh}),
     bits({F::patient})},
    {EventType::transfusion_reaction, "TransfusionReaction",
     bits({F::din, F::product, F::patient, F::onset_at, F::reaction, F::severity, F::imputability}),
     bits({F::reason})},
}};

const TypeInfo& info(EventType t) { return kTypes[static_cast<std::size_t>(t) - 1]; }

constexpr std::array<std::string_view, 10> kDiscardReasons = {"expired",
                                                              "tti_positive",
                                                              "broken_bag",
                                                              "haemolysis",
                                                              "lipaemia",
                                                              "under_collection",
                                                              "temperature_excursion",
                                                              "out_of_storage_too_long",
                                                              "qc_failure",
                                                              "other"};

// DonorDeferred reasons (docs/events.md). The first three are also what the
// engine records for the deferrals it derives.
constexpr std::array<std::string_view, 12> kDeferralReasons = {
    "confirmed_positive", "repeatedly_reactive", "donation_interval",
    "low_haemoglobin",    "medication",          "travel",
    "recent_tattoo",      "pregnancy",           "illness",
    "high_risk",          "donor_request",       "other"};

constexpr std::array<std::string_view, 5> kMethodNames = {"", "screen", "repeat", "confirmatory",
                                                          "nat"};
constexpr std::array<std::string_view, 3> kSexNames = {"", "male", "female"};

bool valid_type(EventType t) {
  const auto i = static_cast<int>(t);
  return i >= 1 && i <= kEventTypeCount;
}

bool printable_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += len;
  }
  return true;
}

bool is_code(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

bool has(const Event& e, Field f) {
  switch (f) {
    case F::din:
      return !e.din.empty();
    case F::product:
      return !e.product.empty();
    case F::donor:
      return !e.donor.empty();
    case F::abo_rh:
      return e.abo_rh != AboRh::unknown;
    case F::expires_at:
      return e.expires_at != 0;
    case F::volume_ml:
      return e.volume_ml != 0;
    case F::to:
      return !e.to.empty();
    case F::test:
      return !e.test.empty();
    case F::result:
      return !e.result.empty();
    case F::reason:
      return !e.reason.empty();
    case F::patient_abo_rh:
      return e.patient_abo_rh != AboRh::unknown;
    case F::reagent:
      return !e.reagent.empty();
    case F::lot:
      return !e.lot.empty();
    case F::quantity:
      return e.quantity != 0;
    case F::method:
      return e.method != TestMethod::unspecified;
    case F::until:
      return e.until != 0;
    case F::sex:
      return e.sex != DonorSex::unknown;
    case F::approver:
      return !e.approver.empty();
    case F::patient:
      return !e.patient.empty();
    case F::emergency:
      return e.emergency;
    case F::reaction:
      return e.reaction != ReactionCategory::none;
    case F::severity:
      return e.severity != ReactionSeverity::none;
    case F::imputability:
      return e.imputability != Imputability::none;
    case F::onset_at:
      return e.onset_at != 0;
  }
  return false;
}

bool plausible(TimeMs t) { return t >= kEarliestPlausibleTime && t < kLatestPlausibleTime; }

Error implausible_time() {
  return make_error("implausible_time",
                    "A time of the event lies before 1990 or after 2199; check the date and the "
                    "device's clock.");
}

constexpr std::array<Field, 24> kFields = {F::din,
                                           F::product,
                                           F::donor,
                                           F::abo_rh,
                                           F::expires_at,
                                           F::volume_ml,
                                           F::to,
                                           F::test,
                                           F::result,
                                           F::reason,
                                           F::patient_abo_rh,
                                           F::reagent,
                                           F::lot,
                                           F::quantity,
                                           F::method,
                                           F::until,
                                           F::sex,
                                           F::approver,
                                           F::patient,
                                           F::emergency,
                                           F::reaction,
                                           F::severity,
                                           F::imputability,
                                           F::onset_at};

// The fields that schema versions 3 and 4 added.
constexpr std::array<Field, 4> kVersion3Fields = {F::method, F::until, F::sex, F::approver};
constexpr std::array<Field, 6> kVersion4Fields = {F::patient,  F::emergency,    F::reaction,
                                                  F::severity, F::imputability, F::onset_at};

}  // namespace

std::string_view to_string(EventType t) { return valid_type(t) ? info(t).name : "unknown"; }

std::optional<EventType> parse_event_type(std::string_view name) {
  for (const auto& ti : kTypes) {
    if (ti.name == name) return ti.type;
  }
  return std::nullopt;
}

std::string_view to_string(Field f) {
  switch (f) {
    case F::din:
      return "din";
    case F::product:
      return "product";
    case F::donor:
      return "donor";
    case F::abo_rh:
      return "abo_rh";
    case F::expires_at:
      return "expires_at";
    case F::volume_ml:
      return "volume_ml";
    case F::to:
      return "to";
    case F::test:
      return "test";
    case F::result:
      return "result";
    case F::reason:
      return "reason";
    case F::patient_abo_rh:
      return "patient_abo_rh";
    case F::reagent:
      return "reagent";
    case F::lot:
      return "lot";
    case F::quantity:
      return "quantity";
    case F::method:
      return "method";
    case F::until:
      return "until";
    case F::sex:
      return "sex";
    case F::approver:
      return "approver";
    case F::patient:
      return "patient";
    case F::emergency:
      return "emergency";
    case F::reaction:
      return "reaction";
    case F::severity:
      return "severity";
    case F::imputability:
      return "imputability";
    case F::onset_at:
      return "onset_at";
  }
  return "?";
}

bool field_required(EventType t, Field f) {
  return valid_type(t) && (info(t).required & static_cast<std::uint32_t>(f)) != 0;
}

bool field_allowed(EventType t, Field f) {
  return valid_type(t) &&
         ((info(t).required | info(t).optional) & static_cast<std::uint32_t>(f)) != 0;
}

bool is_din(std::string_view s) {
  if (s.size() != 13) return false;
  const char a = s[0];
  const bool alpha_ok = (a >= 'A' && a <= 'N') || (a >= 'P' && a <= 'Z') || (a >= '1' && a <= '9');
  if (!alpha_ok) return false;
  for (std::size_t i = 1; i < 13; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

bool is_product_code(std::string_view s) {
  if (s.size() != 8) return false;
  if (s[0] < 'A' || s[0] > 'Z') return false;
  for (std::size_t i = 1; i < 5; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  for (std::size_t i = 5; i < 8; ++i) {
    if (!std::isalnum(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool is_discard_reason(std::string_view s) {
  for (auto r : kDiscardReasons) {
    if (r == s) return true;
  }
  return false;
}

std::string_view discard_reasons_text() {
  return "expired, tti_positive, broken_bag, haemolysis, lipaemia, under_collection, "
         "temperature_excursion, out_of_storage_too_long, qc_failure, other";
}

bool is_deferral_reason(std::string_view s) {
  for (auto r : kDeferralReasons) {
    if (r == s) return true;
  }
  return false;
}

std::string_view deferral_reasons_text() {
  return "confirmed_positive, repeatedly_reactive, donation_interval, low_haemoglobin, "
         "medication, travel, recent_tattoo, pregnancy, illness, high_risk, donor_request, other";
}

std::string_view to_string(TestMethod m) {
  const auto i = static_cast<std::size_t>(m);
  return i < kMethodNames.size() ? kMethodNames[i] : "";
}

std::optional<TestMethod> parse_test_method(std::string_view text) {
  for (std::size_t i = 1; i < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == text) return static_cast<TestMethod>(i);
  }
  return std::nullopt;
}

std::string_view to_string(DonorSex s) {
  const auto i = static_cast<std::size_t>(s);
  return i < kSexNames.size() ? kSexNames[i] : "";
}

std::optional<DonorSex> parse_donor_sex(std::string_view text) {
  for (std::size_t i = 1; i < kSexNames.size(); ++i) {
    if (kSexNames[i] == text) return static_cast<DonorSex>(i);
  }
  return std::nullopt;
}

Event expiry_event(const std::string& din, const std::string& product, const std::string& holder,
                   TimeMs expires_at) {
  Event e;
  e.id = "expiry-" + din + "-" + product;
  e.type = EventType::unit_expired;
  e.at = expires_at;
  e.facility = holder;
  e.actor = "hemoledger";
  e.station = "expiry";
  e.din = din;
  e.product = product;
  return e;
}

Event recall_event(const std::string& din, const std::string& product, const std::string& facility,
                   const std::string& test, const std::string& trigger_din, TimeMs at) {
  Event e;
  e.id = "recall-" + din + "-" + product;
  e.type = EventType::unit_recalled;
  e.at = at;
  e.facility = facility;
  e.actor = "hemoledger";
  e.station = "lookback";
  e.din = din;
  e.product = product;
  e.test = test;
  e.reason =
      "lookback: donation " + trigger_din + " of the same donor screened positive for " + test;
  return e;
}

bool is_pseudonymous_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  bool digit = false;
  for (unsigned char c : s) {
    if (std::isdigit(c))
      digit = true;
    else if (!std::isalpha(c) && c != '-' && c != '_' && c != '.' && c != ':' && c != '/')
      return false;
  }
  return digit;  // a name has no digits; a pseudonym from a registry does
}

Event deferred_collection_event(const std::string& din, const std::string& donor,
                                const std::string& facility, const std::string& reason,
                                TimeMs until, TimeMs at) {
  Event e;
  e.id = "deferred-" + din;
  e.type = EventType::deferred_donor_collected;
  e.at = at;
  e.facility = facility;
  e.actor = "hemoledger";
  e.station = "donor-check";
  e.din = din;
  e.donor = donor;
  e.reason = reason;
  e.until = until;
  return e;
}

bool is_donor_event(EventType t) { return t == EventType::donor_deferred; }

bool is_reagent_event(EventType t) {
  return t >= EventType::reagent_received && t <= EventType::reagent_expired;
}

std::string event_key(const Event& e) {
  if (e.type == EventType::clock_ticked) return "clock";
  if (is_donor_event(e.type)) return "donor:" + e.donor;
  return is_reagent_event(e.type) ? "reagent:" + e.reagent + ":" + e.lot : e.din;
}

Event clock_tick_event(TimeMs now) {
  const TimeMs second = now - now % 1000;
  Event e;
  e.id = "tick-" + std::to_string(second / 1000);
  e.type = EventType::clock_ticked;
  e.at = second;
  e.facility = "hemoledger";
  e.actor = "hemoledger";
  e.station = "clock";
  return e;
}

namespace {

// validate_shape() in four steps, checked in this order (the first failing
// check decides the code).

// The envelope: type, version, id, times, facility and the free text.
Status check_envelope(const Event& e) {
  if (!valid_type(e.type)) {
    return make_error("unknown_type", "The event type is not one hemoledger knows.");
  }
  if (e.schema_version == 0 || e.schema_version > kSchemaVersion) {
    return make_error("unsupported_version",
                      "Schema version " + std::to_string(e.schema_version) +
                          " is not supported; this engine reads versions 1 to " +
                          std::to_string(kSchemaVersion) + ".");
  }
  if (e.id.empty() || e.id.size() > 128 || !printable_ascii(e.id)) {
    return make_error("invalid_id",
                      "The event id must be 1 to 128 printable characters without spaces.");
  }
  if (e.at <= 0) return make_error("missing_field", "The event has no time of occurrence (at).");
  if (!plausible(e.at) || (e.expires_at != 0 && !plausible(e.expires_at)) ||
      (e.until != 0 && !plausible(e.until)) || (e.recorded_at != 0 && !plausible(e.recorded_at)) ||
      (e.onset_at != 0 && !plausible(e.onset_at))) {
    return implausible_time();
  }
  if (!is_code(e.facility)) {
    return make_error("missing_field", "The event does not name a valid facility code.");
  }
  for (const std::string* text :
       {&e.actor, &e.station, &e.test, &e.result, &e.reason, &e.approver}) {
    if (!valid_utf8(*text)) {
      return make_error(kInvalidText, "A text field of the event is not valid UTF-8.");
    }
  }
  if (e.actor.size() > 128 || e.station.size() > 128 || e.approver.size() > 128) {
    return make_error(kFieldTooLong, "Actor, station and approver are limited to 128 characters.");
  }
  return {};
}

// Whether the event's version has its type and fields: a type from `first`
// on, or one of `added`, needs schema version `version` or later.
template <std::size_t N>
Status check_version(const Event& e, std::uint16_t version, EventType first,
                     const std::array<Field, N>& added) {
  if (e.schema_version >= version) return {};
  const std::string needs = " needs schema version " + std::to_string(version) + " or later.";
  if (e.type >= first)
    return make_error("unsupported_version", std::string(to_string(e.type)) + needs);
  for (Field f : added) {
    if (has(e, f)) {
      return make_error("unsupported_version",
                        "The field '" + std::string(to_string(f)) + "'" + needs);
    }
  }
  return {};
}

// Which fields the type needs and allows, and the version that has them.
Status check_fields_for_type(const Event& e) {
  const std::string type_name(to_string(e.type));
  for (Field f : kFields) {
    const bool present = has(e, f);
    if (field_required(e.type, f) && !present) {
      return make_error("missing_field",
                        type_name + " needs the field '" + std::string(to_string(f)) + "'.");
    }
    if (present && !field_allowed(e.type, f)) {
      return make_error("unexpected_field", "The field '" + std::string(to_string(f)) +
                                                "' does not apply to " + type_name + ".");
    }
  }
  if (e.schema_version < 2 && (has(e, F::reagent) || has(e, F::lot) || has(e, F::quantity))) {
    return make_error("unsupported_version",
                      "Reagent, lot and quantity need schema version 2 or later.");
  }
  if (Status s = check_version(e, 3, kFirstVersion3Type, kVersion3Fields); !s.ok()) return s;
  if (Status s = check_version(e, 4, kFirstVersion4Type, kVersion4Fields); !s.ok()) return s;
  if (e.schema_version < 4) {
    if ((e.type == EventType::unit_issued || e.type == EventType::unit_returned) && has(e, F::to)) {
      return make_error("unsupported_version",
                        "A destination on " + type_name + " needs schema version 4 or later.");
    }
    if (e.type == EventType::unit_issued && (has(e, F::reason) || has(e, F::approver))) {
      return make_error("unsupported_version",
                        "A reason or an approver on UnitIssued needs schema version 4 or later.");
    }
  }
  return {};
}

// The identifiers: donation number, reagent and lot, product, donor, destination.
Status check_identifiers(const Event& e) {
  const bool has_din =
      !is_reagent_event(e.type) && !is_donor_event(e.type) && e.type != EventType::clock_ticked;
  if ((has_din || !e.din.empty()) && !is_din(e.din)) {
    return make_error("invalid_din", "\"" + e.din.substr(0, 20) +
                                         "\" is not a 13-character ISBT 128 donation number.");
  }
  if (is_reagent_event(e.type)) {
    if (!is_code(e.reagent) || e.reagent.size() > 32) {
      return make_error("invalid_reagent", "The reagent code is not a valid code.");
    }
    if (e.lot.empty() || e.lot.size() > 40 || !printable_ascii(e.lot)) {
      return make_error("invalid_lot",
                        "The lot number must be 1 to 40 printable characters without spaces.");
    }
    if (e.quantity < 0 || e.quantity > 1000000) {
      return make_error("invalid_quantity", "The quantity must be between 1 and 1,000,000.");
    }
  }
  if (!e.product.empty() && !is_product_code(e.product)) {
    return make_error("invalid_product", "\"" + e.product.substr(0, 20) +
                                             "\" is not an 8-character ISBT 128 product code.");
  }
  if (!e.donor.empty() && !is_pseudonymous_id(e.donor)) {
    return make_error("invalid_donor",
                      "The donor must be a pseudonymous id of at most 64 letters, digits and "
                      "- _ . : / with at least one digit (e.g. DNR-104233), never a name.");
  }
  if (!e.to.empty() && !is_code(e.to)) {
    return make_error("invalid_facility", "The destination facility code is not valid.");
  }
  if (!e.patient.empty() && !is_pseudonymous_id(e.patient)) {
    return make_error("invalid_patient",
                      "The patient must be a pseudonymous id of at most 64 letters, digits and "
                      "- _ . : / with at least one digit (e.g. PAT-4411), never a name.");
  }
  return {};
}

// The values: volume, test and result lengths, the reason.
Status check_values(const Event& e) {
  if (e.volume_ml < 0 || e.volume_ml > 2000) {
    return make_error("invalid_volume", "The volume must be between 1 and 2000 mL.");
  }
  if (e.test.size() > 32 || e.result.size() > 32) {
    return make_error(kFieldTooLong, "Test codes and results are limited to 32 characters.");
  }
  if (e.type == EventType::unit_discarded && !is_discard_reason(e.reason)) {
    return make_error("invalid_reason", "The discard reason must be one of: " +
                                            std::string(discard_reasons_text()) + ".");
  }
  if ((e.type == EventType::donor_deferred || e.type == EventType::deferred_donor_collected) &&
      !is_deferral_reason(e.reason)) {
    return make_error("invalid_reason", "The deferral reason must be one of: " +
                                            std::string(deferral_reasons_text()) + ".");
  }
  if (e.until != 0 && e.until <= e.at) {
    return make_error("invalid_until", "A deferral must end after it starts (until after at).");
  }
  if (e.reason.size() > 200) {
    return make_error(kFieldTooLong, "The reason is limited to 200 characters.");
  }
  if (e.onset_at > e.at) {
    return make_error("invalid_onset",
                      "The reaction's onset is dated after the report; check the onset time.");
  }
  return {};
}

}  // namespace

Status validate_shape(const Event& e) {
  if (auto s = check_envelope(e); !s) return s;
  if (auto s = check_fields_for_type(e); !s) return s;
  if (auto s = check_identifiers(e); !s) return s;
  return check_values(e);
}

Status check_plausible_time(const Event& e, TimeMs recorded_at) {
  if (!plausible(recorded_at)) return implausible_time();
  if (e.at > recorded_at && e.at - recorded_at > kMaxFutureSkew) {
    return make_error("from_the_future", "The event is dated " + format_rfc3339(e.at) +
                                             ", more than a day after it "
                                             "reached hemoledger (" +
                                             format_rfc3339(recorded_at) +
                                             "); check the device's clock.");
  }
  return {};
}

}  // namespace hemoledger
