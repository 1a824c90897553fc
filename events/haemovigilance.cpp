#include "events/haemovigilance.h"

#include <array>

namespace hemoledger {

namespace {

template <class E>
struct Name {
  E value;
  std::string_view name;
  std::string_view label;
};

constexpr std::array<Name<ReactionCategory>, 16> kCategories = {{
    {ReactionCategory::febrile, "febrile", "febrile non-haemolytic reaction"},
    {ReactionCategory::allergic, "allergic", "allergic reaction"},
    {ReactionCategory::anaphylactic, "anaphylactic", "anaphylaxis"},
    {ReactionCategory::taco, "taco", "TACO"},
    {ReactionCategory::trali, "trali", "TRALI"},
    {ReactionCategory::tad, "tad", "transfusion-associated dyspnoea"},
    {ReactionCategory::haemolytic_acute, "haemolytic_acute", "acute haemolytic reaction"},
    {ReactionCategory::haemolytic_delayed, "haemolytic_delayed", "delayed haemolytic reaction"},
    {ReactionCategory::delayed_serologic, "delayed_serologic", "delayed serologic reaction"},
    {ReactionCategory::hypotensive, "hypotensive", "hypotensive reaction"},
    {ReactionCategory::ta_gvhd, "ta_gvhd", "TA-GvHD"},
    {ReactionCategory::post_transfusion_purpura, "post_transfusion_purpura",
     "post-transfusion purpura"},
    {ReactionCategory::tti_bacterial, "tti_bacterial", "suspected bacterial transmission"},
    {ReactionCategory::tti_viral, "tti_viral", "suspected viral transmission"},
    {ReactionCategory::tti_parasitic, "tti_parasitic", "suspected parasitic transmission"},
    {ReactionCategory::other, "other", "other reaction"},
}};

constexpr std::array<Name<ReactionSeverity>, 4> kSeverities = {{
    {ReactionSeverity::non_severe, "non_severe", "non-severe"},
    {ReactionSeverity::severe, "severe", "severe"},
    {ReactionSeverity::life_threatening, "life_threatening", "life-threatening"},
    {ReactionSeverity::death, "death", "fatal"},
}};

constexpr std::array<Name<Imputability>, 6> kImputabilities = {{
    {Imputability::not_assessable, "not_assessable", "not assessable"},
    {Imputability::excluded, "excluded", "excluded"},
    {Imputability::unlikely, "unlikely", "unlikely"},
    {Imputability::possible, "possible", "possible"},
    {Imputability::probable, "probable", "probable"},
    {Imputability::certain, "certain", "certain"},
}};

template <class E, std::size_t N>
const Name<E>* find(const std::array<Name<E>, N>& table, E v) {
  for (const auto& n : table) {
    if (n.value == v) return &n;
  }
  return nullptr;
}

template <class E, std::size_t N>
bool parse(const std::array<Name<E>, N>& table, std::string_view text, E& out) {
  for (const auto& n : table) {
    if (n.name == text) {
      out = n.value;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(ReactionCategory c) {
  const auto* n = find(kCategories, c);
  return n ? n->name : "";
}
std::string_view to_string(ReactionSeverity s) {
  const auto* n = find(kSeverities, s);
  return n ? n->name : "";
}
std::string_view to_string(Imputability i) {
  const auto* n = find(kImputabilities, i);
  return n ? n->name : "";
}
std::string_view label(ReactionCategory c) {
  const auto* n = find(kCategories, c);
  return n ? n->label : "";
}
std::string_view label(ReactionSeverity s) {
  const auto* n = find(kSeverities, s);
  return n ? n->label : "";
}

bool parse_reaction_category(std::string_view text, ReactionCategory& out) {
  return parse(kCategories, text, out);
}
bool parse_reaction_severity(std::string_view text, ReactionSeverity& out) {
  return parse(kSeverities, text, out);
}
bool parse_imputability(std::string_view text, Imputability& out) {
  return parse(kImputabilities, text, out);
}

std::string_view reaction_categories_text() {
  return "febrile, allergic, anaphylactic, taco, trali, tad, haemolytic_acute, "
         "haemolytic_delayed, delayed_serologic, hypotensive, ta_gvhd, post_transfusion_purpura, "
         "tti_bacterial, tti_viral, tti_parasitic, other";
}
std::string_view reaction_severities_text() {
  return "non_severe, severe, life_threatening, death";
}
std::string_view imputabilities_text() {
  return "not_assessable, excluded, unlikely, possible, probable, certain";
}

bool quarantines_siblings(ReactionCategory c) {
  return c == ReactionCategory::trali || c == ReactionCategory::tti_bacterial ||
         c == ReactionCategory::tti_viral;
}

bool is_serious(ReactionSeverity s) {
  return s == ReactionSeverity::severe || s == ReactionSeverity::life_threatening ||
         s == ReactionSeverity::death;
}

}  // namespace hemoledger
