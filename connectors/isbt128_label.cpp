#include "connectors/isbt128_label.h"

#include <hpdf.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "connectors/code128.h"

namespace hemoledger {

namespace {

// ---- what is drawn, in millimetres from the top left corner ------------------

enum class Anchor { start, middle, end };

struct Box {
  double x, y, w, h;
  bool filled = true;  // false: a 0.25 mm outline
};

struct Text {
  double x, y;  // the baseline's anchor point
  double size;  // em height in mm
  std::string text;
  Anchor anchor = Anchor::start;
  bool bold = false;
  bool white = false;  // on a filled box
};

struct Drawing {
  std::vector<Box> boxes;
  std::vector<Text> texts;
};

constexpr double kHalf = kLabelSizeMm / 2;
constexpr double kMargin = 2.5;         // inside each quadrant
constexpr double kMaxModuleMm = 0.254;  // 10 mil, the usual ISBT 128 X dimension
constexpr double kBarHeightMm = 13;

// A Code 128 symbol centred in the quadrant's width at `top`, with its quiet
// zones inside the quadrant.
Status draw_symbol(Drawing& d, double qx, double top, const std::string& data) {
  auto c = encode_code128(data);
  if (!c) return c.error();
  const double room = kHalf - 2 * kMargin;
  const double x_mm = std::min(kMaxModuleMm, room / (c->modules + 2 * kCode128QuietModules));
  const double left = qx + (kHalf - c->modules * x_mm) / 2;
  for (const auto& b : c->bars) {
    d.boxes.push_back({left + b.start * x_mm, top, b.width * x_mm, kBarHeightMm});
  }
  return {};
}

// "G1234 26 000001": facility, year, sequence, as the eye-readable DIN groups them.
std::string din_groups(const std::string& din) {
  return din.substr(0, 5) + " " + din.substr(5, 2) + " " + din.substr(7);
}

void draw_din_text(Drawing& d, const BaseLabel& l, double y) {
  // 36 mm for the number, then the flags small and the check character boxed.
  d.texts.push_back({kMargin, y, 3.6, din_groups(l.din), Anchor::start, true});
  d.texts.push_back({39.2, y - 1.4, 2.4, l.din_flags, Anchor::start});
  d.boxes.push_back({43, y - 3.9, 4.6, 5, false});
  d.texts.push_back({45.3, y, 3.8, std::string(1, l.check_character), Anchor::middle, true});
}

void draw_group_text(Drawing& d, const BaseLabel& l, double y) {
  const double cx = kHalf + kHalf / 2;
  if (!l.group) {
    d.texts.push_back({cx, y + 2, 5, std::string(isbt128::text_of(*l.group_message)).substr(0, 24),
                       Anchor::middle, true});
    d.texts.push_back(
        {cx, y + 9, 3.2, std::string(isbt128::code_of(*l.group_message)), Anchor::middle});
    return;
  }
  d.texts.push_back(
      {cx, y + 8, 17, std::string(to_string(abo_of(*l.group))), Anchor::middle, true});
  // RhD negative printed reversed (white on black), as blood services do.
  const bool negative = rhd_of(*l.group) == RhD::negative;
  if (negative) d.boxes.push_back({kHalf + 6, y + 10.5, kHalf - 12, 6.5});
  d.texts.push_back({cx, y + 15.5, 4.4, negative ? "RhD NEGATIVE" : "RhD POSITIVE", Anchor::middle,
                     true, negative});
}

void draw_product_text(Drawing& d, const BaseLabel& l, double y) {
  d.texts.push_back({kMargin + 1, y, 4.4, l.product, Anchor::start, true});
  // The catalogue writes the description's parts separated by '|': one line each.
  double line = y + 5.5;
  std::size_t from = 0;
  while (from <= l.product_description.size() && line < kLabelSizeMm - 2) {
    const auto bar = l.product_description.find('|', from);
    const auto part =
        l.product_description.substr(from, bar == std::string::npos ? bar : bar - from);
    if (!part.empty()) {
      d.texts.push_back({kMargin + 1, line, 3, part.substr(0, 30), Anchor::start, line == y + 5.5});
      line += 4.2;
    }
    if (bar == std::string::npos) break;
    from = bar + 1;
  }
}

constexpr const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

void draw_expiry_text(Drawing& d, const BaseLabel& l, double y) {
  const std::int64_t days =
      l.expires_at >= 0 ? l.expires_at / kDay : (l.expires_at - kDay + 1) / kDay;
  const CivilDate c = civil_from_days(days);
  const TimeMs minutes = (l.expires_at - days * kDay) / kMinute;
  char date[64], time[64];
  std::snprintf(date, sizeof date, "%02u %s %d", c.d, kMonths[c.m - 1], c.y);
  std::snprintf(time, sizeof time, "%02d:%02d UTC", static_cast<int>(minutes / 60),
                static_cast<int>(minutes % 60));
  const double cx = kHalf + kHalf / 2;
  d.texts.push_back({cx, y, 3.2, "EXPIRES", Anchor::middle});
  d.texts.push_back({cx, y + 7, 6, date, Anchor::middle, true});
  d.texts.push_back({cx, y + 13, 4.4, time, Anchor::middle, true});
}

Result<Drawing> layout(const BaseLabel& l) {
  Drawing d;
  // The quadrants' dividing lines.
  d.boxes.push_back({kHalf - 0.15, 0, 0.3, kLabelSizeMm});
  d.boxes.push_back({0, kHalf - 0.15, kLabelSizeMm, 0.3});
  const double top = kMargin + 1, bottom = kHalf + kMargin + 1;
  const double text_y = kBarHeightMm + 8.5;
  for (const auto& [x, y, data] :
       {std::tuple{0.0, top, &l.din_data}, std::tuple{kHalf, top, &l.group_data},
        std::tuple{0.0, bottom, &l.product_data}, std::tuple{kHalf, bottom, &l.expiry_data}}) {
    if (auto s = draw_symbol(d, x, y, *data); !s) return s.error();
  }
  draw_din_text(d, l, top + text_y);
  draw_group_text(d, l, top + text_y - 3);
  draw_product_text(d, l, bottom + text_y);
  draw_expiry_text(d, l, bottom + text_y);
  return d;
}

// ---- SVG -------------------------------------------------------------------

std::string xml_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string mm(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  std::string s = b;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

const char* svg_anchor(Anchor a) {
  return a == Anchor::start ? "start" : a == Anchor::middle ? "middle" : "end";
}

// ---- PDF (libharu) -----------------------------------------------------------

constexpr double kPointsPerMm = 72.0 / 25.4;

struct HpdfDelete {
  void operator()(HPDF_Doc d) const { HPDF_Free(d); }
};

// libharu reports errors through a callback; the first one is kept.
void on_hpdf_error(HPDF_STATUS error, HPDF_STATUS detail, void* user) {
  auto* first = static_cast<std::string*>(user);
  if (first->empty()) {
    char b[64];
    std::snprintf(b, sizeof b, "libharu error 0x%04X (detail %u)", static_cast<unsigned>(error),
                  static_cast<unsigned>(detail));
    *first = b;
  }
}

void pdf_text(HPDF_Page page, HPDF_Font regular, HPDF_Font bold, const Text& t) {
  HPDF_Page_SetFontAndSize(page, t.bold ? bold : regular,
                           static_cast<HPDF_REAL>(t.size * kPointsPerMm));
  const double width = HPDF_Page_TextWidth(page, t.text.c_str());
  double x = t.x * kPointsPerMm;
  if (t.anchor == Anchor::middle) x -= width / 2;
  if (t.anchor == Anchor::end) x -= width;
  const double y = (kLabelSizeMm - t.y) * kPointsPerMm;
  HPDF_Page_SetRGBFill(page, t.white ? 1 : 0, t.white ? 1 : 0, t.white ? 1 : 0);
  HPDF_Page_BeginText(page);
  HPDF_Page_TextOut(page, static_cast<HPDF_REAL>(x), static_cast<HPDF_REAL>(y), t.text.c_str());
  HPDF_Page_EndText(page);
}

void pdf_box(HPDF_Page page, const Box& b) {
  const auto p = [](double v) { return static_cast<HPDF_REAL>(v * kPointsPerMm); };
  // Colours and widths are set outside a path (libharu's graphics modes).
  if (b.filled) {
    HPDF_Page_SetRGBFill(page, 0, 0, 0);
  } else {
    HPDF_Page_SetLineWidth(page, p(0.25));
  }
  HPDF_Page_Rectangle(page, p(b.x), p(kLabelSizeMm - b.y - b.h), p(b.w), p(b.h));
  if (b.filled) {
    HPDF_Page_Fill(page);
  } else {
    HPDF_Page_Stroke(page);
  }
}

}  // namespace

Result<BaseLabel> base_label(const Donation& d, std::string_view product,
                             const ReferenceData& reference, std::string_view flags) {
  const UnitState* unit = d.unit(product);
  if (unit == nullptr) {
    return make_error("not_found",
                      "Donation " + d.din + " has no component " + std::string(product) + ".");
  }
  BaseLabel l;
  l.din = d.din;
  l.check_character = isbt128::din_check_character(d.din);
  l.product = unit->product;
  if (const Product* p = reference.product(unit->product)) l.product_description = p->description;
  l.expires_at = unit->expires_at;
  const AboRh typed = combine(d.typed_abo, d.typed_rhd);
  if (unit->status == UnitStatus::discarded || unit->tti_blocked || d.tti_positive) {
    l.group_message = isbt128::GroupMessage::discard;
  } else if (typed == AboRh::unknown) {
    l.group_message = isbt128::GroupMessage::quarantine;
  } else {
    l.group = typed;
  }
  auto din = isbt128::encode_din(l.din, flags);
  if (!din) return din.error();
  l.din_data = *din;
  l.din_flags = l.din_data.substr(14);
  if (l.group) {
    auto g = isbt128::encode_blood_groups(*l.group);
    if (!g) return g.error();
    l.group_data = *g;
  } else {
    l.group_data = isbt128::encode_blood_groups(*l.group_message);
  }
  auto p = isbt128::encode_product(l.product);
  if (!p) return p.error();
  l.product_data = *p;
  auto e = isbt128::encode_expiry(l.expires_at);
  if (!e) return e.error();
  l.expiry_data = *e;
  return l;
}

Result<std::string> render_label_svg(const BaseLabel& label) {
  auto d = layout(label);
  if (!d) return d.error();
  std::string s =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100mm\" height=\"100mm\" "
      "viewBox=\"0 0 100 100\">\n"
      "<title>ISBT 128 label " +
      xml_escaped(label.din + " " + label.product) +
      "</title>\n"
      "<rect width=\"100\" height=\"100\" fill=\"#fff\"/>\n<g fill=\"#000\">\n";
  for (const auto& b : d->boxes) {
    s += "<rect x=\"" + mm(b.x) + "\" y=\"" + mm(b.y) + "\" width=\"" + mm(b.w) + "\" height=\"" +
         mm(b.h) + "\"" + (b.filled ? "" : " fill=\"none\" stroke=\"#000\" stroke-width=\"0.25\"") +
         "/>\n";
  }
  s += "</g>\n<g font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  for (const auto& t : d->texts) {
    s +=
        "<text x=\"" + mm(t.x) + "\" y=\"" + mm(t.y) + "\" font-size=\"" + mm(t.size) + "\"" +
        (t.anchor == Anchor::start ? ""
                                   : " text-anchor=\"" + std::string(svg_anchor(t.anchor)) + "\"") +
        (t.bold ? " font-weight=\"bold\"" : "") + (t.white ? " fill=\"#fff\"" : "") + ">" +
        xml_escaped(t.text) + "</text>\n";
  }
  s += "</g>\n</svg>\n";
  return s;
}

Result<std::string> render_label_pdf(const BaseLabel& label) {
  auto d = layout(label);
  if (!d) return d.error();
  std::string failure;
  std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, HpdfDelete> pdf(
      HPDF_New(on_hpdf_error, &failure));
  if (!pdf) return make_error("pdf_failed", "The PDF library could not start.");
  HPDF_SetCompressionMode(pdf.get(), HPDF_COMP_ALL);
  HPDF_Page page = HPDF_AddPage(pdf.get());
  const auto side = static_cast<HPDF_REAL>(kLabelSizeMm * kPointsPerMm);
  HPDF_Page_SetWidth(page, side);
  HPDF_Page_SetHeight(page, side);
  HPDF_Font regular = HPDF_GetFont(pdf.get(), "Helvetica", nullptr);
  HPDF_Font bold = HPDF_GetFont(pdf.get(), "Helvetica-Bold", nullptr);
  for (const auto& b : d->boxes) pdf_box(page, b);
  for (const auto& t : d->texts) pdf_text(page, regular, bold, t);
  HPDF_SaveToStream(pdf.get());
  std::string out(HPDF_GetStreamSize(pdf.get()), '\0');
  HPDF_UINT32 size = static_cast<HPDF_UINT32>(out.size());
  HPDF_ReadFromStream(pdf.get(), reinterpret_cast<HPDF_BYTE*>(out.data()), &size);
  out.resize(size);
  if (!failure.empty() || out.empty()) {
    return make_error("pdf_failed", "The label could not be written as PDF: " + failure + ".");
  }
  return out;
}

Result<LabelFormat> parse_label_format(std::string_view name) {
  if (name == "svg") return LabelFormat::svg;
  if (name == "pdf") return LabelFormat::pdf;
  return make_error("bad_format",
                    "A label is printed as svg or pdf, not \"" + std::string(name) + "\".");
}

std::string_view media_type(LabelFormat f) {
  return f == LabelFormat::svg ? "image/svg+xml" : "application/pdf";
}

Result<std::string> render_label(const BaseLabel& label, LabelFormat format) {
  return format == LabelFormat::svg ? render_label_svg(label) : render_label_pdf(label);
}

}  // namespace hemoledger
