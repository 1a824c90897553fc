// Code 128 symbols (ISO/IEC 15417) for printed labels, encoded by Debian's
// Zint library (libzint): the bars of one linear symbol, as runs of modules,
// ready to be drawn at any size. Pure apart from Zint's own allocation; safe
// to call from any thread (each call has its own Zint symbol).
//
//   Result<Code128> c = encode_code128("=G12341765432170");
//   for (const Code128::Bar& b : c->bars) draw(x0 + b.start * x_mm, b.width * x_mm);
//
// Zint picks code sets A, B and C to make the symbol shortest (runs of digits
// in C). The symbol carries the start character, the data, the modulo 103
// check character and the stop pattern; quiet zones (10 modules each side)
// are the caller's to leave. Data must be printable ASCII (what ISBT 128
// data structures hold); anything else is refused with code
// `not_encodable`.
#pragma once

#include <string_view>
#include <vector>

#include "events/result.h"

namespace hemoledger {

struct Code128 {
  struct Bar {
    int start = 0;  // first module of the bar, from the symbol's left edge
    int width = 0;  // in modules, 1-4
    bool operator==(const Bar&) const = default;
  };
  int modules = 0;        // the symbol's width in modules, quiet zones excluded
  std::vector<Bar> bars;  // left to right
};

// Minimum quiet zone each side of a Code 128 symbol, in modules.
inline constexpr int kCode128QuietModules = 10;

[[nodiscard]] Result<Code128> encode_code128(std::string_view data);

}  // namespace hemoledger
