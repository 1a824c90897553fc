// The ISBT 128 base label of one unit, as printed: 100 x 100 mm in four
// quadrants, each a Code 128 symbol (connectors/code128.h) with its
// eye-readable text below it, as ICCBBA ST-001 lays out a base label:
//
//   +--------------------------+--------------------------+
//   | 1 donation number (001)  | 2 ABO/RhD (002)          |
//   |   G1234 26 000001 00 [K] |   O  RhD POSITIVE        |
//   +--------------------------+--------------------------+
//   | 3 product code (003)     | 4 expiry date/time (005) |
//   |   E0382V00 + description |   EXP 20 NOV 2026 23:59  |
//   +--------------------------+--------------------------+
//
// The data structures come from connectors/isbt128.h (the one home of the
// identifiers, group codes and check value), so every printed symbol decodes
// with isbt128::decode() to what the unit's record says.
//
//   auto label = base_label(donation, "E0382V00", reference);
//   if (!label) refuse(label.error());
//   write(render_label_svg(*label));   // or render_label_pdf(*label)
//
// Pure functions: no I/O, no clock; safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "connectors/isbt128.h"
#include "events/reference_data.h"
#include "events/result.h"
#include "projections/unit_state.h"

namespace hemoledger {

inline constexpr double kLabelSizeMm = 100;

struct BaseLabel {
  std::string din;  // 13 characters
  std::string din_flags;
  char check_character = '\0';  // the keyboard check character, printed boxed
  // The group printed: the typed ABO/RhD, or a special message instead
  // (Md for a unit that must be discarded, Mq for one not yet typed).
  std::optional<AboRh> group;
  std::optional<isbt128::GroupMessage> group_message;
  std::string product;              // 8 characters
  std::string product_description;  // from the product catalogue; "" when unknown
  TimeMs expires_at = 0;

  // The four symbols' data, in quadrant order.
  std::string din_data, group_data, product_data, expiry_data;
};

// The base label of `product` of donation `d`. The group quadrant carries the
// typed group; Md (discard) when the unit is discarded or its donation
// screened positive; Mq (quarantine) while ABO or RhD is not typed, so a
// label never makes an unusable unit look usable. `flags` are the DIN's flag
// characters ("00" unused; "" for the type-3 check flags). Error not_found
// when the donation has no such unit, or the encoders' errors.
[[nodiscard]] Result<BaseLabel> base_label(const Donation& d, std::string_view product,
                                           const ReferenceData& reference,
                                           std::string_view flags = "00");

enum class LabelFormat { svg, pdf };
// "svg" or "pdf"; error bad_format for anything else.
[[nodiscard]] Result<LabelFormat> parse_label_format(std::string_view name);
std::string_view media_type(LabelFormat f);  // "image/svg+xml", "application/pdf"

// The label in `format`: render_label_svg() or render_label_pdf().
[[nodiscard]] Result<std::string> render_label(const BaseLabel& label, LabelFormat format);
// The label as an SVG document, 100 x 100 mm, bars as vector rectangles.
[[nodiscard]] Result<std::string> render_label_svg(const BaseLabel& label);
// The label as a one-page PDF, 100 x 100 mm (libharu), bars as vector
// rectangles, text in the standard Helvetica font.
[[nodiscard]] Result<std::string> render_label_pdf(const BaseLabel& label);

}  // namespace hemoledger
