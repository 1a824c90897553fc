// The Store's reads of the keys outside the partitions: the alerts (g/), lab
// messages (m/) and refusals (z/).
#include "engine/storage/store.h"
#include "engine/storage/store_keys.h"

namespace hemoledger {

using namespace store_keys;

Result<AlertState> Store::alert_state() const {
  auto v = get(global_key('s'));
  if (!v) return v.error();
  AlertState st;
  if (!v->has_value()) return st;
  std::int64_t seq = 0, batch = 0;
  if ((*v)->size() != 24 || !decode_i64(std::string_view(**v).substr(0, 8), seq) ||
      !decode_i64(std::string_view(**v).substr(8, 8), st.clock) ||
      !decode_i64(std::string_view(**v).substr(16, 8), batch)) {
    return corrupt("The stored alert state is damaged.");
  }
  st.seq = static_cast<std::uint64_t>(seq);
  st.batch = static_cast<std::uint64_t>(batch);
  return st;
}

Result<std::map<std::string, std::string>> Store::open_alerts() const {
  std::map<std::string, std::string> out;
  auto s = scan(global_key('a', {}, true), {}, [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  if (!s) return s.error();
  return out;
}

Status Store::scan_alert_changes(
    std::uint64_t from_seq,
    const std::function<bool(std::uint64_t, std::string_view)>& visit) const {
  const std::string prefix = global_key('h', {}, true);
  return scan(prefix, prefix + offset_text(static_cast<std::int64_t>(from_seq)),
              [&](std::string_view k, std::string_view v) {
                std::int64_t seq = 0;
                return parse_offset_key(k, seq) ? visit(static_cast<std::uint64_t>(seq), v) : true;
              });
}

Status Store::scan_batch_ends(
    const std::function<bool(std::uint64_t, const std::map<std::int32_t, std::int64_t>&)>& visit)
    const {
  std::optional<Error> failure;
  auto s = scan(global_key('b', {}, true), {}, [&](std::string_view k, std::string_view v) {
    std::int64_t batch = 0;
    std::map<std::int32_t, std::int64_t> ends;
    bool ok = parse_offset_key(k, batch) && v.size() % 16 == 0;
    for (std::size_t i = 0; ok && i < v.size(); i += 16) {
      std::int64_t p = 0, end = 0;
      ok = decode_i64(v.substr(i, 8), p) && decode_i64(v.substr(i + 8, 8), end);
      ends[static_cast<std::int32_t>(p)] = end;
    }
    if (!ok) {
      failure = corrupt("A recorded batch boundary is damaged.");
      return false;
    }
    return visit(static_cast<std::uint64_t>(batch), ends);
  });
  if (!s) return s;
  if (failure) return *failure;
  return {};
}

Result<std::uint64_t> Store::alert_cursor(std::string_view sink) const {
  auto v = get(global_key('w', sink, true));
  if (!v) return v.error();
  std::int64_t n = 0;
  if (v->has_value() && !decode_i64(**v, n)) return corrupt("An alert cursor is damaged.");
  return static_cast<std::uint64_t>(n);
}

Result<std::optional<std::string>> Store::inbound(std::string_view id) const {
  return get("m/" + std::string(id));
}

Status Store::scan_inbound(
    std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  // scan() bounds by the prefix's last character + 1, so scan all of m/ from
  // the prefix and stop at the first id that does not start with it.
  return scan("m/", "m/" + std::string(prefix), [&](std::string_view id, std::string_view v) {
    if (id.substr(0, prefix.size()) != prefix) return false;
    return visit(id, v);
  });
}

Status Store::scan_refusals(
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return scan("z/", "", visit);
}

}  // namespace hemoledger
