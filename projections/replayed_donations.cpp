#include "projections/replayed_donations.h"

#include <stdexcept>

namespace hemoledger {

ReplayedDonations::ReplayedDonations(std::size_t decoded_limit)
    : limit_(decoded_limit == 0 ? 1 : decoded_limit) {}

std::pair<Donation*, bool> ReplayedDonations::touch(const std::string& din) {
  if (auto it = decoded_.find(din); it != decoded_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second.recent);
    return {&it->second.donation, false};
  }
  make_room();
  Donation d;
  bool fresh = true;
  if (auto it = encoded_.find(din); it != encoded_.end()) {
    auto decoded = decode_donation(it->second);
    // The bytes were encoded here from a valid Donation: a failure is a bug.
    if (!decoded) throw std::logic_error("replayed donation " + din + " cannot be decoded");
    d = std::move(*decoded);
    encoded_.erase(it);
    fresh = false;
  }
  recent_.push_front(din);
  auto [it, _] = decoded_.emplace(din, Decoded{std::move(d), recent_.begin()});
  return {&it->second.donation, fresh};
}

void ReplayedDonations::make_room() {
  while (decoded_.size() >= limit_) {
    auto it = decoded_.find(recent_.back());
    encoded_.insert_or_assign(recent_.back(), encode_donation(it->second.donation));
    decoded_.erase(it);
    recent_.pop_back();
  }
}

void ReplayedDonations::erase(const std::string& din) {
  if (auto it = decoded_.find(din); it != decoded_.end()) {
    recent_.erase(it->second.recent);
    decoded_.erase(it);
  }
  encoded_.erase(din);
}

std::optional<Donation> ReplayedDonations::find(std::string_view din) const {
  const std::string key(din);
  if (auto it = decoded_.find(key); it != decoded_.end()) return it->second.donation;
  if (auto it = encoded_.find(key); it != encoded_.end()) {
    auto decoded = decode_donation(it->second);
    if (!decoded) throw std::logic_error("replayed donation " + key + " cannot be decoded");
    return std::move(*decoded);
  }
  return std::nullopt;
}

std::optional<std::string> ReplayedDonations::encoded(std::string_view din) const {
  const std::string key(din);
  if (auto it = decoded_.find(key); it != decoded_.end()) {
    return encode_donation(it->second.donation);
  }
  if (auto it = encoded_.find(key); it != encoded_.end()) return it->second;
  return std::nullopt;
}

std::size_t ReplayedDonations::count(std::string_view din) const {
  const std::string key(din);
  return decoded_.count(key) + encoded_.count(key);
}

void ReplayedDonations::for_each(
    const std::function<void(const std::string&, const Donation&, std::string_view)>& fn) const {
  for (const auto& [din, entry] : decoded_)
    fn(din, entry.donation, encode_donation(entry.donation));
  for (const auto& [din, bytes] : encoded_) {
    auto decoded = decode_donation(bytes);
    if (!decoded) throw std::logic_error("replayed donation " + din + " cannot be decoded");
    fn(din, *decoded, bytes);
  }
}

}  // namespace hemoledger
