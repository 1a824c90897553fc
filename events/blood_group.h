// ABO/RhD blood groups as they travel in events ("O+", "AB-") and in stock.
//
// `unknown` is a real value: a donation is collected before it is typed.
// The enum's numeric values are serialized; never renumber them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hemoledger {

enum class AboRh : std::uint8_t {
  unknown = 0,
  o_pos = 1,
  o_neg = 2,
  a_pos = 3,
  a_neg = 4,
  b_pos = 5,
  b_neg = 6,
  ab_pos = 7,
  ab_neg = 8,
};

enum class Abo : std::uint8_t { unknown = 0, o = 1, a = 2, b = 3, ab = 4 };
enum class RhD : std::uint8_t { unknown = 0, positive = 1, negative = 2 };

inline constexpr std::array<AboRh, 8> kAllGroups = {AboRh::o_pos,  AboRh::o_neg, AboRh::a_pos,
                                                    AboRh::a_neg,  AboRh::b_pos, AboRh::b_neg,
                                                    AboRh::ab_pos, AboRh::ab_neg};

// "O+", "A-", ...; "unknown" for AboRh::unknown.
std::string_view to_string(AboRh g);
// Accepts the eight groups as written above; anything else is nullopt.
std::optional<AboRh> parse_abo_rh(std::string_view text);

Abo abo_of(AboRh g);
RhD rhd_of(AboRh g);
AboRh combine(Abo abo, RhD rhd);  // unknown unless both are known

std::string_view to_string(Abo a);  // "O", "A", "B", "AB"
std::optional<Abo> parse_abo(std::string_view text);
// "pos"/"positive"/"+" and "neg"/"negative"/"-", any case.
std::optional<RhD> parse_rhd(std::string_view text);

}  // namespace hemoledger
