#include "events/blood_group.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace hemoledger {

namespace {

struct GroupName {
  AboRh group;
  std::string_view name;
  Abo abo;
  RhD rhd;
};

constexpr std::array<GroupName, 9> kGroups = {{
    {AboRh::unknown, "unknown", Abo::unknown, RhD::unknown},
    {AboRh::o_pos, "O+", Abo::o, RhD::positive},
    {AboRh::o_neg, "O-", Abo::o, RhD::negative},
    {AboRh::a_pos, "A+", Abo::a, RhD::positive},
    {AboRh::a_neg, "A-", Abo::a, RhD::negative},
    {AboRh::b_pos, "B+", Abo::b, RhD::positive},
    {AboRh::b_neg, "B-", Abo::b, RhD::negative},
    {AboRh::ab_pos, "AB+", Abo::ab, RhD::positive},
    {AboRh::ab_neg, "AB-", Abo::ab, RhD::negative},
}};

const GroupName& entry(AboRh g) {
  const auto i = static_cast<std::size_t>(g);
  return i < kGroups.size() ? kGroups[i] : kGroups[0];
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string_view to_string(AboRh g) { return entry(g).name; }

std::optional<AboRh> parse_abo_rh(std::string_view text) {
  for (const auto& e : kGroups) {
    if (e.group != AboRh::unknown && e.name == text) return e.group;
  }
  return std::nullopt;
}

Abo abo_of(AboRh g) { return entry(g).abo; }
RhD rhd_of(AboRh g) { return entry(g).rhd; }

AboRh combine(Abo abo, RhD rhd) {
  for (const auto& e : kGroups) {
    if (e.group != AboRh::unknown && e.abo == abo && e.rhd == rhd) return e.group;
  }
  return AboRh::unknown;
}

std::string_view to_string(Abo a) {
  switch (a) {
    case Abo::o:
      return "O";
    case Abo::a:
      return "A";
    case Abo::b:
      return "B";
    case Abo::ab:
      return "AB";
    case Abo::unknown:
      break;
  }
  return "unknown";
}

std::optional<Abo> parse_abo(std::string_view text) {
  const std::string t = lower(text);
  if (t == "o") return Abo::o;
  if (t == "a") return Abo::a;
  if (t == "b") return Abo::b;
  if (t == "ab") return Abo::ab;
  return std::nullopt;
}

std::optional<RhD> parse_rhd(std::string_view text) {
  const std::string t = lower(text);
  if (t == "pos" || t == "positive" || t == "+") return RhD::positive;
  if (t == "neg" || t == "negative" || t == "-") return RhD::negative;
  return std::nullopt;
}

}  // namespace hemoledger
