// parse_stock_filter, parse_alert_filter, parse_reagent_filter
// (engine/queries/query_filters.h): the query parameters of GET /api/stock,
// /api/alerts and /api/reagents, from any HTTP client. The input is a query
// string, "k=v&k=v..." (cpp-httplib hands the handlers such pairs, already
// %-decoded; any bytes may appear in them). Invariants: no exception escapes;
// a refusal is bad_filter with a sentence; an accepted filter holds only
// values the reference data knows, exactly as given, and the alert limit
// stays within 1..100000.
#include <map>
#include <string>

#include "engine/queries/query_filters.h"
#include "fuzz/fuzz_support.h"

using namespace hemoledger;

namespace {

std::map<std::string, std::string> split_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    const auto eq = pair.find('=');
    out.emplace(std::string(pair.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

template <typename R>
void check_refusal(const R& r) {
  if (r) return;
  HL_FUZZ_CHECK(r.error().code == "bad_filter");
  HL_FUZZ_CHECK(!r.error().message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // cpp-httplib bounds the request line well below this
  const ReferenceData& ref = fuzz::shipped_reference();
  const auto params = split_query(fuzz::as_text(data, size));
  auto given = [&](const char* k) {
    const auto it = params.find(k);
    return it == params.end() ? std::string() : it->second;
  };
  fuzz::no_escape("parse_stock_filter", [&] {
    auto f = parse_stock_filter(params, ref);
    check_refusal(f);
    if (!f) return;
    HL_FUZZ_CHECK(f->facility == given("facility"));
    HL_FUZZ_CHECK(f->governorate == given("governorate"));
    HL_FUZZ_CHECK(f->facility.empty() || ref.facility(f->facility) != nullptr);
    HL_FUZZ_CHECK(f->governorate.empty() || ref.governorate(f->governorate) != nullptr);
    HL_FUZZ_CHECK(f->has_status == params.count("status") > 0);
  });
  fuzz::no_escape("parse_alert_filter", [&] {
    auto f = parse_alert_filter(params, ref);
    check_refusal(f);
    if (!f) return;
    HL_FUZZ_CHECK(f->status == "open" || f->status == "cleared" || f->status == "all");
    HL_FUZZ_CHECK(f->limit >= 1 && f->limit <= 100000);
    HL_FUZZ_CHECK(f->facility == given("facility"));
    HL_FUZZ_CHECK(f->facility.empty() || ref.facility(f->facility) != nullptr);
    HL_FUZZ_CHECK(f->governorate.empty() || ref.governorate(f->governorate) != nullptr);
    HL_FUZZ_CHECK(f->since.has_value() == params.count("since") > 0);
  });
  fuzz::no_escape("parse_reagent_filter", [&] {
    auto f = parse_reagent_filter(params, ref);
    check_refusal(f);
    if (!f) return;
    HL_FUZZ_CHECK(f->reagent.empty() || ref.reagents().find(f->reagent) != nullptr);
    HL_FUZZ_CHECK(f->facility == given("facility"));
  });
  return 0;
}
