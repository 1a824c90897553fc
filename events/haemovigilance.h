// Haemovigilance codes: what a transfusion reaction report says, after the
// ISBT working party definitions (DOMAIN.md "Haemovigilance"). The one home of
// these codes: the event field values (TransfusionReaction), the JSON names and
// the rules that steer by them (which reactions quarantine the other
// components of the donation, which are serious).
//
// Numeric values are serialized (events/binary_codec.h): never renumber, only
// append. 0 means "absent" in every enum.
#pragma once

#include <cstdint>
#include <string_view>

namespace hemoledger {

enum class ReactionCategory : std::uint8_t {
  none = 0,
  febrile = 1,             // febrile non-haemolytic (FNHTR)
  allergic = 2,            // allergic, not anaphylaxis
  anaphylactic = 3,        // anaphylaxis
  taco = 4,                // transfusion-associated circulatory overload
  trali = 5,               // transfusion-related acute lung injury
  tad = 6,                 // transfusion-associated dyspnoea
  haemolytic_acute = 7,    // AHTR
  haemolytic_delayed = 8,  // DHTR
  delayed_serologic = 9,   // DSTR
  hypotensive = 10,
  ta_gvhd = 11,                   // transfusion-associated graft-versus-host disease
  post_transfusion_purpura = 12,  // PTP
  tti_bacterial = 13,             // transfusion-transmitted infection
  tti_viral = 14,
  tti_parasitic = 15,
  other = 16,
};
inline constexpr std::uint8_t kLastReactionCategory = 16;

enum class ReactionSeverity : std::uint8_t {
  none = 0,
  non_severe = 1,
  severe = 2,
  life_threatening = 3,
  death = 4,
};
inline constexpr std::uint8_t kLastReactionSeverity = 4;

enum class Imputability : std::uint8_t {
  none = 0,
  not_assessable = 1,
  excluded = 2,
  unlikely = 3,
  possible = 4,
  probable = 5,
  certain = 6,
};
inline constexpr std::uint8_t kLastImputability = 6;

// JSON names ("trali", "life_threatening", "probable"); "" for none.
std::string_view to_string(ReactionCategory c);
std::string_view to_string(ReactionSeverity s);
std::string_view to_string(Imputability i);
// English labels for sentences ("TRALI", "life-threatening").
std::string_view label(ReactionCategory c);
std::string_view label(ReactionSeverity s);
// Parse the JSON names; false (and `out` unchanged) for anything else.
bool parse_reaction_category(std::string_view text, ReactionCategory& out);
bool parse_reaction_severity(std::string_view text, ReactionSeverity& out);
bool parse_imputability(std::string_view text, Imputability& out);
// The lists of names, for error messages.
std::string_view reaction_categories_text();
std::string_view reaction_severities_text();
std::string_view imputabilities_text();

// A suspected TRALI, bacterial contamination or viral transmission: the other
// components of the same donation are quarantined at once (DOMAIN.md).
bool quarantines_siblings(ReactionCategory c);
// Severe, life-threatening or death: a red alert.
bool is_serious(ReactionSeverity s);

}  // namespace hemoledger
