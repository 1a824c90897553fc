// The one text form of the JSON values hemoledger stores in RocksDB and sends
// to Kafka (outcomes, rejections, alerts, lab records, partials): compact,
// keys in order, and bytes that are not UTF-8 replaced by U+FFFD instead of
// throwing, since a sender's text may carry anything. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hemoledger {

inline std::string stored_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace hemoledger
