#include "engine/station/station_actions.h"

#include <nlohmann/json.hpp>

namespace hemoledger {

namespace {

constexpr unsigned bits(std::initializer_list<Need> ns) {
  unsigned b = 0;
  for (Need n : ns) b |= static_cast<unsigned>(n);
  return b;
}

using N = Need;

// The one table of actions. Adding an action is one line here (and its
// event's fields in StationSession::make_event when it takes new ones).
constexpr StationActionInfo kActions[] = {
    {StationAction::collect, "collect", EventType::donation_collected, "collected", 0, 0, false},
    {StationAction::receive, "receive", EventType::component_produced, "received into stock", 0, 0,
     false},
    {StationAction::release, "release", EventType::unit_released, "released", 0, 0, true},
    {StationAction::reserve, "reserve", EventType::unit_reserved, "reserved",
     bits({N::patient_group}), bits({N::patient}), true},
    {StationAction::issue, "issue", EventType::unit_issued, "issued",
     bits({N::patient, N::patient_group, N::to}), bits({N::approver, N::reason}), true},
    {StationAction::return_unit, "return", EventType::unit_returned, "returned to stock", 0,
     bits({N::to}), true},
    {StationAction::transfuse, "transfuse", EventType::unit_transfused, "recorded as transfused", 0,
     bits({N::patient, N::patient_group}), false},
    {StationAction::discard, "discard", EventType::unit_discarded, "discarded",
     bits({N::discard_reason}), 0, false},
    {StationAction::dispatch, "dispatch", EventType::transfer_dispatched, "dispatched",
     bits({N::to}), 0, true},
    {StationAction::receive_transfer, "receive-transfer", EventType::transfer_received,
     "received from transfer", 0, 0, false},
    {StationAction::emergency, "emergency", EventType::unit_issued,
     "issued as an emergency release", bits({N::patient, N::to, N::reason, N::approver}), 0, true},
    {StationAction::thaw, "thaw", EventType::unit_thawed, "thawed", 0, 0, true},
    {StationAction::type_patient, "type-patient", EventType::patient_typed,
     "recorded with the patient's group", bits({N::patient_group}), bits({N::patient}), false},
    {StationAction::reaction, "reaction", EventType::transfusion_reaction,
     "reported with a transfusion reaction", bits({N::patient, N::reaction}), bits({N::reason}),
     false},
};

constexpr std::pair<Need, std::string_view> kNeedNames[] = {
    {Need::patient, "patient"},
    {Need::patient_group, "patient_group"},
    {Need::to, "to"},
    {Need::discard_reason, "discard_reason"},
    {Need::reason, "reason"},
    {Need::approver, "approver"},
    {Need::reaction, "reaction"},
};

nlohmann::json need_names(unsigned b) {
  auto out = nlohmann::json::array();
  for (const auto& [n, name] : kNeedNames) {
    if ((b & static_cast<unsigned>(n)) != 0) out.push_back(std::string(name));
  }
  return out;
}

// "a, b, c" as ["a", "b", "c"].
nlohmann::json codes(std::string_view text) {
  auto out = nlohmann::json::array();
  for (std::size_t from = 0; from < text.size();) {
    const auto comma = text.find(", ", from);
    out.push_back(
        std::string(text.substr(from, comma == std::string_view::npos ? comma : comma - from)));
    if (comma == std::string_view::npos) break;
    from = comma + 2;
  }
  return out;
}

}  // namespace

std::span<const StationActionInfo> station_actions() { return kActions; }

const StationActionInfo& station_action_info(StationAction a) {
  for (const auto& i : kActions) {
    if (i.action == a) return i;
  }
  return kActions[0];
}

std::string station_action_names() {
  std::string out;
  for (const auto& i : kActions) out += (out.empty() ? "" : ", ") + std::string(i.name);
  return out;
}

Result<StationAction> parse_station_action(std::string_view name) {
  for (const auto& i : kActions) {
    if (i.name == name) return i.action;
  }
  return make_error("bad_action", "Unknown action " + std::string(name) + "; use " +
                                      station_action_names() + ".");
}

bool needs(const StationActionInfo& a, Need n) { return (a.needs & static_cast<unsigned>(n)) != 0; }

bool takes(const StationActionInfo& a, Need n) {
  return ((a.needs | a.may) & static_cast<unsigned>(n)) != 0;
}

nlohmann::json station_actions_json() {
  auto actions = nlohmann::json::array();
  for (const auto& a : kActions) {
    actions.push_back({{"name", std::string(a.name)},
                       {"event", std::string(to_string(a.type))},
                       {"needs", need_names(a.needs)},
                       {"may", need_names(a.may)}});
  }
  // The discard reasons and the reaction codes, as the lists in events/ word them.
  auto reasons = codes(discard_reasons_text());
  return {{"actions", std::move(actions)},
          {"discard_reasons", std::move(reasons)},
          {"reactions", codes(reaction_categories_text())},
          {"severities", codes(reaction_severities_text())},
          {"imputabilities", codes(imputabilities_text())}};
}

}  // namespace hemoledger
