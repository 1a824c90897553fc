// decode_partials (engine/scaleout/partials_codec.h): the records of the scale-out
// partials topic, which any Kafka client that may write to it can send. The
// input is the message key, a newline, then the value. Invariants: no
// exception escapes; a refusal carries a code and a sentence; an accepted
// message holds exactly one record, and an owner or stock record encodes
// and decodes back to itself (what an instance publishes is what its peers
// read); an alerts record encodes to a record that decodes again.
#include <string>

#include "engine/scaleout/partials_codec.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256 * 1024) return 0;  // a record of the topic is far smaller
  const std::string_view input = fuzz::as_text(data, size);
  const auto nl = input.find('\n');
  const std::string_view key = input.substr(0, nl);
  const std::string_view value = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  fuzz::no_escape("decode_partials", [&] {
    auto m = decode_partials(key, value);
    if (!m) {
      HL_FUZZ_CHECK(!m.error().code.empty());
      HL_FUZZ_CHECK(!m.error().message.empty());
      return;
    }
    const int set = m->owner.has_value() + m->stock.has_value() + m->lookback.has_value() +
                    m->alerts.has_value();
    HL_FUZZ_CHECK(set == 1);
    if (m->owner) {
      auto again = decode_partials(key, encode_owner(*m->owner));
      HL_FUZZ_CHECK(again && again->owner);
      const OwnerRecord& a = *m->owner;
      const OwnerRecord& b = *again->owner;
      HL_FUZZ_CHECK(a.partition == b.partition && a.instance == b.instance && a.url == b.url &&
                    a.restoring == b.restoring && a.next_offset == b.next_offset &&
                    a.target_offset == b.target_offset && a.clock == b.clock &&
                    a.published_at == b.published_at);
    }
    if (m->stock) {
      auto again = decode_partials(key, encode_stock(*m->stock));
      HL_FUZZ_CHECK(again && again->stock);
      const StockRecord& a = *m->stock;
      const StockRecord& b = *again->stock;
      HL_FUZZ_CHECK(a.partition == b.partition && a.instance == b.instance &&
                    a.next_offset == b.next_offset && a.published_at == b.published_at &&
                    a.clock == b.clock);
      HL_FUZZ_CHECK(a.stock == b.stock && a.demand == b.demand && a.index == b.index &&
                    a.lots == b.lots && a.usage == b.usage);
    }
    if (m->alerts) {
      auto again = decode_partials(key, encode_alerts(*m->alerts, fuzz::shipped_reference()));
      HL_FUZZ_CHECK(again && again->alerts && again->alerts->seq == m->alerts->seq);
    }
  });
  return 0;
}
