#include "projections/replayed_donations.h"

#include <stdexcept>

namespace hemoledger {

namespace {

EntryDigest digest_of(const std::vector<IndexEntry>& entries) {
  EntryDigest digest;
  for (const auto& e : entries) digest.add(e.kind, e.key, e.value);
  return digest;
}

Donation decoded_or_throw(std::string_view din, std::string_view bytes) {
  auto decoded = decode_donation(bytes);
  // The bytes were encoded here from a valid Donation: a failure is a bug.
  if (!decoded) {
    throw std::logic_error("replayed donation " + std::string(din) + " cannot be decoded");
  }
  return std::move(*decoded);
}

constexpr std::size_t kDigestBytes = 16;

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return v;
}

std::string value_of(const EntryDigest& index, const std::string& bytes) {
  std::string v;
  v.reserve(kDigestBytes + bytes.size());
  put_u64(v, index.count);
  put_u64(v, index.sum);
  v += bytes;
  return v;
}

EntryDigest index_in(std::string_view value) {
  if (value.size() < kDigestBytes) throw std::logic_error("a replayed donation is truncated");
  return EntryDigest{get_u64(value), get_u64(value.substr(8))};
}

std::string_view bytes_in(std::string_view value) { return value.substr(kDigestBytes); }

}  // namespace

void EncodedInMemory::put(const std::string& din, std::string_view value) {
  values_.insert_or_assign(din, std::string(value));
}

std::optional<std::string> EncodedInMemory::get(const std::string& din) const {
  if (auto it = values_.find(din); it != values_.end()) return it->second;
  return std::nullopt;
}

void EncodedInMemory::erase(const std::string& din) { values_.erase(din); }

std::unique_ptr<EncodedDonations::Cursor> EncodedInMemory::cursor() const {
  class InMemory final : public Cursor {
   public:
    explicit InMemory(const std::map<std::string, std::string, std::less<>>& m)
        : it_(m.begin()), end_(m.end()) {}
    bool valid() const override { return it_ != end_; }
    std::string_view din() const override { return it_->first; }
    std::string_view value() const override { return it_->second; }
    void next() override { ++it_; }

   private:
    std::map<std::string, std::string, std::less<>>::const_iterator it_, end_;
  };
  return std::make_unique<InMemory>(values_);
}

ReplayedDonations::ReplayedDonations(std::size_t decoded_limit,
                                     std::unique_ptr<EncodedDonations> encoded)
    : limit_(decoded_limit == 0 ? 1 : decoded_limit),
      encoded_(encoded ? std::move(encoded) : std::make_unique<EncodedInMemory>()) {}

std::pair<Donation*, bool> ReplayedDonations::touch(const std::string& din) {
  if (auto it = decoded_.find(din); it != decoded_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second.recent);
    it->second.index.reset();  // the caller may change it
    return {&it->second.donation, false};
  }
  make_room();
  Donation d;
  bool fresh = true;
  if (auto value = encoded_->get(din)) {
    d = decoded_or_throw(din, bytes_in(*value));
    drop_encoded(din, *value);
    fresh = false;
  }
  recent_.push_front(din);
  auto [it, _] = decoded_.emplace(din, Decoded{std::move(d), recent_.begin(), std::nullopt});
  return {&it->second.donation, fresh};
}

std::vector<IndexEntry> ReplayedDonations::index_entries_of(const std::string& din) {
  auto [donation, fresh] = touch(din);
  if (fresh) {
    erase(din);
    return {};
  }
  Decoded& d = decoded_.at(din);
  auto entries = index_entries(*donation);
  d.index = digest_of(entries);
  return entries;
}

EntryDigest ReplayedDonations::index_digest_of(const Decoded& d) {
  return d.index ? *d.index : digest_of(index_entries(d.donation));
}

void ReplayedDonations::encode(std::unordered_map<std::string, Decoded>::iterator it) {
  const EntryDigest index = index_digest_of(it->second);
  encoded_->put(it->first, value_of(index, encode_donation(it->second.donation)));
  encoded_index_ += index;
  ++encoded_count_;
  recent_.erase(it->second.recent);
  decoded_.erase(it);
}

void ReplayedDonations::make_room() {
  while (decoded_.size() >= limit_) encode(decoded_.find(recent_.back()));
}

void ReplayedDonations::encode_all() {
  while (!decoded_.empty()) encode(decoded_.begin());
}

void ReplayedDonations::erase(const std::string& din) {
  if (auto it = decoded_.find(din); it != decoded_.end()) {
    recent_.erase(it->second.recent);
    decoded_.erase(it);
  } else if (auto value = encoded_->get(din)) {
    drop_encoded(din, *value);
  }
}

void ReplayedDonations::drop_encoded(const std::string& din, std::string_view value) {
  encoded_index_ -= index_in(value);
  --encoded_count_;
  encoded_->erase(din);
}

std::optional<Donation> ReplayedDonations::find(std::string_view din) const {
  const std::string key(din);
  if (auto it = decoded_.find(key); it != decoded_.end()) return it->second.donation;
  if (auto value = encoded_->get(key)) return decoded_or_throw(key, bytes_in(*value));
  return std::nullopt;
}

std::optional<std::string> ReplayedDonations::encoded(std::string_view din) const {
  const std::string key(din);
  if (auto it = decoded_.find(key); it != decoded_.end()) {
    return encode_donation(it->second.donation);
  }
  if (auto value = encoded_->get(key)) return std::string(bytes_in(*value));
  return std::nullopt;
}

std::size_t ReplayedDonations::count(std::string_view din) const {
  const std::string key(din);
  return decoded_.count(key) + (encoded_->get(key) ? 1 : 0);
}

void ReplayedDonations::for_each(
    const std::function<void(const std::string&, const Donation&, std::string_view)>& fn) const {
  for (const auto& [din, entry] : decoded_)
    fn(din, entry.donation, encode_donation(entry.donation));
  for (auto c = encoded_->cursor(); c->valid(); c->next()) {
    const std::string din(c->din());
    const auto bytes = bytes_in(c->value());
    fn(din, decoded_or_throw(din, bytes), bytes);
  }
}

EntryDigest ReplayedDonations::index_digest() const {
  EntryDigest all = encoded_index_;
  for (const auto& [din, entry] : decoded_) all += index_digest_of(entry);
  return all;
}

std::string_view ReplayedDonations::Cursor::bytes() const { return bytes_in(at_->value()); }

EntryDigest ReplayedDonations::Cursor::index() const { return index_in(at_->value()); }

}  // namespace hemoledger
