#include "connectors/code128.h"

#include <zint.h>

#include <cmath>
#include <memory>
#include <string>

namespace hemoledger {

namespace {

struct ZintDelete {
  void operator()(zint_symbol* s) const { ZBarcode_Delete(s); }
};

bool printable_ascii(std::string_view data) {
  for (char c : data) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return !data.empty();
}

}  // namespace

Result<Code128> encode_code128(std::string_view data) {
  if (!printable_ascii(data)) {
    return make_error("not_encodable",
                      "Only printable ASCII characters can be printed as a Code 128 label.");
  }
  std::unique_ptr<zint_symbol, ZintDelete> symbol(ZBarcode_Create());
  if (!symbol) return make_error("not_encodable", "The barcode library could not start.");
  symbol->symbology = BARCODE_CODE128;
  symbol->input_mode = DATA_MODE;
  symbol->show_hrt = 0;
  const std::string text(data);
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  if (ZBarcode_Encode(symbol.get(), bytes, static_cast<int>(text.size())) >= ZINT_ERROR ||
      ZBarcode_Buffer_Vector(symbol.get(), 0) >= ZINT_ERROR || symbol->vector == nullptr ||
      symbol->width <= 0) {
    return make_error("not_encodable", "The barcode library refused \"" + text +
                                           "\": " + std::string(symbol->errtxt) + ".");
  }
  // Zint's vector unit is a fixed fraction of a module; turn it back into modules.
  const double unit = symbol->vector->width / symbol->width;
  Code128 c;
  c.modules = symbol->width;
  for (const zint_vector_rect* r = symbol->vector->rectangles; r != nullptr; r = r->next) {
    c.bars.push_back({static_cast<int>(std::lround(r->x / unit)),
                      static_cast<int>(std::lround(r->width / unit))});
  }
  return c;
}

}  // namespace hemoledger
