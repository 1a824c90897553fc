#include "projections/replayed_donations.h"

#include <stdexcept>

namespace hemoledger {

namespace {

EntryDigest digest_of(const std::vector<IndexEntry>& entries) {
  EntryDigest digest;
  for (const auto& e : entries) digest.add(e.kind, e.key, e.value);
  return digest;
}

Donation decoded_or_throw(const std::string& din, std::string_view bytes) {
  auto decoded = decode_donation(bytes);
  // The bytes were encoded here from a valid Donation: a failure is a bug.
  if (!decoded) throw std::logic_error("replayed donation " + din + " cannot be decoded");
  return std::move(*decoded);
}

}  // namespace

ReplayedDonations::ReplayedDonations(std::size_t decoded_limit)
    : limit_(decoded_limit == 0 ? 1 : decoded_limit) {}

std::pair<Donation*, bool> ReplayedDonations::touch(const std::string& din) {
  if (auto it = decoded_.find(din); it != decoded_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second.recent);
    it->second.index.reset();  // the caller may change it
    return {&it->second.donation, false};
  }
  make_room();
  Donation d;
  bool fresh = true;
  if (auto it = encoded_.find(din); it != encoded_.end()) {
    d = decoded_or_throw(din, it->second.bytes);
    encoded_.erase(it);
    fresh = false;
  }
  recent_.push_front(din);
  auto [it, _] = decoded_.emplace(din, Decoded{std::move(d), recent_.begin(), std::nullopt});
  return {&it->second.donation, fresh};
}

std::vector<IndexEntry> ReplayedDonations::index_entries_of(const std::string& din) {
  if (!count(din)) return {};
  touch(din);
  Decoded& d = decoded_.at(din);
  auto entries = index_entries(d.donation);
  d.index = digest_of(entries);
  return entries;
}

EntryDigest ReplayedDonations::index_digest_of(const Decoded& d) {
  return d.index ? *d.index : digest_of(index_entries(d.donation));
}

void ReplayedDonations::make_room() {
  while (decoded_.size() >= limit_) {
    auto it = decoded_.find(recent_.back());
    encoded_.insert_or_assign(
        recent_.back(), Encoded{encode_donation(it->second.donation), index_digest_of(it->second)});
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
    return decoded_or_throw(key, it->second.bytes);
  }
  return std::nullopt;
}

std::optional<std::string> ReplayedDonations::encoded(std::string_view din) const {
  const std::string key(din);
  if (auto it = decoded_.find(key); it != decoded_.end()) {
    return encode_donation(it->second.donation);
  }
  if (auto it = encoded_.find(key); it != encoded_.end()) return it->second.bytes;
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
  for (const auto& [din, entry] : encoded_) {
    fn(din, decoded_or_throw(din, entry.bytes), entry.bytes);
  }
}

EntryDigest ReplayedDonations::index_digest() const {
  EntryDigest all;
  for (const auto& [din, entry] : decoded_) all += index_digest_of(entry);
  for (const auto& [din, entry] : encoded_) all += entry.index;
  return all;
}

}  // namespace hemoledger
