// ReplayedDonations: the donations of one partition while a replay folds its
// journal (projections/partition_replay.h). The most recently touched ones
// are kept decoded, ready for the projector; the others are kept encoded
// (encode_donation, the bytes the store holds, a fraction of the decoded
// aggregate's heap) in an EncodedDonations: in memory by default, or on disk
// where a rebuild gives it a scratch store (engine/storage/scratch_store.h),
// so that its memory does not grow with the history. Most of a donation's
// events come close together (collection, tests, production, release), so
// most events find their donation decoded; and a rebuild compares the encoded
// bytes with the stored ones as they are, both in DIN order.
// Measured on the bench's 600k events (bench/README.md, "Rebuild"), 1024
// decoded per partition: peak RSS of rebuild --check 362 -> 280 MB and less
// CPU (7.6 -> 6.4 s); 256 decodes too often (9.8 s), 8192 holds nearly all.
//
// Beside each encoded donation it keeps the digest (projections/entry_digest.h)
// of the donation's index entries (projections/indexes.h), computed while the
// donation was still decoded, so that a rebuild compares the indexes of a
// whole partition with a sum and never decodes a cold donation for it.
//
//   ReplayedDonations ds;
//   auto [d, fresh] = ds.touch(din);   // decoded, most recent; fresh if new
//   ... change *d in place ...
//   auto entries = ds.index_entries_of(din);  // and remembers their digest
//   ds.encode_all();                   // at the end: then, in DIN order,
//   for (auto c = ds.cursor(); c.valid(); c.next()) use(c.din(), c.bytes());
//
// Encoding and decoding are lossless (the engine reads every donation back
// from its store), so what a replay ends with does not depend on which were
// decoded. Values only; not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "projections/entry_digest.h"
#include "projections/indexes.h"
#include "projections/unit_state.h"

namespace hemoledger {

// Where ReplayedDonations keeps what it holds encoded: opaque values by DIN,
// visited in DIN order (bytewise). A store that can fail (a scratch store on
// disk) remembers its first failure for its owner to report, and get()
// returns nullopt then; the owner must not trust a replay after a failure.
class EncodedDonations {
 public:
  virtual ~EncodedDonations() = default;
  virtual void put(const std::string& din, std::string_view value) = 0;
  virtual std::optional<std::string> get(const std::string& din) const = 0;
  virtual void erase(const std::string& din) = 0;

  // Visits the values in DIN order; invalid at the end.
  class Cursor {
   public:
    virtual ~Cursor() = default;
    virtual bool valid() const = 0;
    virtual std::string_view din() const = 0;
    virtual std::string_view value() const = 0;
    virtual void next() = 0;
  };
  virtual std::unique_ptr<Cursor> cursor() const = 0;
};

// In memory: a map.
class EncodedInMemory final : public EncodedDonations {
 public:
  void put(const std::string& din, std::string_view value) override;
  std::optional<std::string> get(const std::string& din) const override;
  void erase(const std::string& din) override;
  std::unique_ptr<Cursor> cursor() const override;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

class ReplayedDonations {
 public:
  ReplayedDonations() : ReplayedDonations(kDecodedLimit) {}
  // At most `decoded_limit` (>= 1) donations are held decoded at once, the
  // others in `encoded` (in memory when null).
  explicit ReplayedDonations(std::size_t decoded_limit,
                             std::unique_ptr<EncodedDonations> encoded = nullptr);

  // The donation `din`, decoded and made the most recent, to change in place;
  // `fresh` when it was not there (a default Donation was added). The
  // pointer stays valid until the next touch() or erase().
  std::pair<Donation*, bool> touch(const std::string& din);
  void erase(const std::string& din);
  // index_entries(d) of the donation `din` (touched: decoded and made the
  // most recent; nothing if there is none), remembering their digest until
  // the next touch() of it, so that evicting it costs no second computation.
  std::vector<IndexEntry> index_entries_of(const std::string& din);
  // Every donation encoded (none left decoded), for cursor().
  void encode_all();

  // A copy of the donation, or nullopt. Does not change what is decoded.
  std::optional<Donation> find(std::string_view din) const;
  // The donation's bytes as the store holds them, or nullopt.
  std::optional<std::string> encoded(std::string_view din) const;
  std::size_t size() const { return decoded_.size() + encoded_count_; }
  std::size_t count(std::string_view din) const;

  // Every donation, both decoded and encoded, in no particular order.
  void for_each(const std::function<void(const std::string& din, const Donation&,
                                         std::string_view bytes)>& fn) const;
  // The digest of every donation's index entries together: the sum of those
  // kept beside the encoded ones and the decoded ones' (remembered or computed).
  EntryDigest index_digest() const;

  // The encoded donations in DIN order (all of them after encode_all()):
  // each one's DIN, bytes and index digest.
  class Cursor {
   public:
    bool valid() const { return at_->valid(); }
    std::string_view din() const { return at_->din(); }
    std::string_view bytes() const;
    EntryDigest index() const;
    void next() { at_->next(); }

   private:
    friend class ReplayedDonations;
    explicit Cursor(std::unique_ptr<EncodedDonations::Cursor> at) : at_(std::move(at)) {}
    std::unique_ptr<EncodedDonations::Cursor> at_;
  };
  Cursor cursor() const { return Cursor(encoded_->cursor()); }

  static constexpr std::size_t kDecodedLimit = 1024;

 private:
  struct Decoded {
    Donation donation;
    std::list<std::string>::iterator recent;  // its place in recent_
    std::optional<EntryDigest> index;         // of index_entries(donation), when known
  };
  void make_room();
  void encode(std::unordered_map<std::string, Decoded>::iterator it);
  // Forgets the encoded donation `din`, whose stored value is `value`.
  void drop_encoded(const std::string& din, std::string_view value);
  static EntryDigest index_digest_of(const Decoded& d);

  std::size_t limit_;
  std::unordered_map<std::string, Decoded> decoded_;
  std::list<std::string> recent_;  // DINs of decoded_, most recent first
  // Each value: the index digest (count and sum, 8 bytes little-endian each),
  // then encode_donation's bytes.
  std::unique_ptr<EncodedDonations> encoded_;
  std::size_t encoded_count_ = 0;
  EntryDigest encoded_index_;  // the sum of the encoded ones' index digests
};

}  // namespace hemoledger
