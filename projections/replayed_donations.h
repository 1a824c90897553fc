// ReplayedDonations: the donations of one partition while a replay folds its
// journal (projections/partition_replay.h). The most recently touched ones
// are kept decoded, ready for the projector; the others are kept encoded
// (encode_donation, the bytes the store holds, a fraction of the decoded
// aggregate's heap), so that a replay's memory follows the encoded size of
// the history. Most of a donation's events come close together (collection,
// tests, production, release), so most events find their donation decoded;
// and a rebuild compares the encoded bytes with the stored ones as they are.
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
//   ds.for_each([](const std::string& din, const Donation& d, std::string_view bytes) {...});
//   EntryDigest all = ds.index_digest();
//
// Encoding and decoding are lossless (the engine reads every donation back
// from its store), so what a replay ends with does not depend on which were
// decoded. Values only; not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
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

class ReplayedDonations {
 public:
  ReplayedDonations() : ReplayedDonations(kDecodedLimit) {}
  // At most `decoded_limit` (>= 1) donations are held decoded at once.
  explicit ReplayedDonations(std::size_t decoded_limit);

  // The donation `din`, decoded and made the most recent, to change in place;
  // `fresh` when it was not there (a default Donation was added). The
  // pointer stays valid until the next touch() or erase().
  std::pair<Donation*, bool> touch(const std::string& din);
  void erase(const std::string& din);
  // index_entries(d) of the donation `din` (touched: decoded and made the
  // most recent; nothing if there is none), remembering their digest until
  // the next touch() of it, so that evicting it costs no second computation.
  std::vector<IndexEntry> index_entries_of(const std::string& din);

  // A copy of the donation, or nullopt. Does not change what is decoded.
  std::optional<Donation> find(std::string_view din) const;
  // The donation's bytes as the store holds them, or nullopt.
  std::optional<std::string> encoded(std::string_view din) const;
  std::size_t size() const { return decoded_.size() + encoded_.size(); }
  std::size_t count(std::string_view din) const;

  // Every donation, both decoded and encoded, in no particular order.
  void for_each(const std::function<void(const std::string& din, const Donation&,
                                         std::string_view bytes)>& fn) const;
  // The digest of every donation's index entries together: the digests kept
  // beside the encoded ones, the decoded ones' computed (or remembered).
  EntryDigest index_digest() const;

  static constexpr std::size_t kDecodedLimit = 1024;

 private:
  struct Decoded {
    Donation donation;
    std::list<std::string>::iterator recent;  // its place in recent_
    std::optional<EntryDigest> index;         // of index_entries(donation), when known
  };
  struct Encoded {
    std::string bytes;  // encode_donation
    EntryDigest index;  // of its index_entries
  };
  void make_room();
  static EntryDigest index_digest_of(const Decoded& d);

  std::size_t limit_;
  std::unordered_map<std::string, Decoded> decoded_;
  std::list<std::string> recent_;  // DINs of decoded_, most recent first
  std::unordered_map<std::string, Encoded> encoded_;
};

}  // namespace hemoledger
