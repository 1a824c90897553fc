// TokenFile: the API tokens a running engine accepts (`serve --tokens FILE`),
// each a name, a role, a facility (station and lab) and the SHA-256 of the
// token in hex. The file never holds a token itself: `hemoledger token new`
// prints a fresh token once and appends only its hash. Format
// (docs/security.md):
//
//   {"tokens": [
//     {"name": "jem-bench-1", "role": "station", "facility": "JEM-BB",
//      "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]}
//
//   auto tokens = TokenFile::load("tokens.json", reference);
//   if (!tokens) return fail(tokens.error());
//   std::optional<Principal> who = tokens->authenticate(bearer);
//
// authenticate() hashes the presented token and compares it with every
// entry's hash with CRYPTO_memcmp, so the time taken does not depend on how
// much of a hash matched. OpenSSL errors become Errors (code crypto_error).
// Threading: a loaded TokenFile is immutable and safe to share.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/security/permissions.h"
#include "events/reference_data.h"
#include "events/result.h"

namespace hemoledger {

struct TokenEntry {
  Principal principal;
  std::array<unsigned char, 32> sha256{};
};

class TokenFile {
 public:
  // Reads and checks the file: names unique and non-empty, known roles, a
  // facility of the reference data for station and lab (and none for the
  // others), 64 hex digits per hash, no hash twice. `ref` may be null (no
  // facility check). Errors name the file and the entry.
  [[nodiscard]] static Result<TokenFile> load(const std::string& path, const ReferenceData* ref);
  // Parses the text of a token file; `origin` names it in errors.
  [[nodiscard]] static Result<TokenFile> parse(const std::string& text, const std::string& origin,
                                               const ReferenceData* ref);

  // The principal of a presented token, or nullopt when none matches.
  std::optional<Principal> authenticate(const std::string& token) const;
  // The principal of the entry named `name` (a client certificate's CN on
  // a lab link, docs/security.md), or nullopt.
  std::optional<Principal> principal_named(std::string_view name) const;
  const std::vector<TokenEntry>& entries() const { return entries_; }

 private:
  std::vector<TokenEntry> entries_;
};

// SHA-256 of bytes, in lower-case hex.
[[nodiscard]] Result<std::string> sha256_hex(const std::string& bytes);

// A new random token: "hl_" and 64 hex digits (32 bytes from RAND_bytes).
[[nodiscard]] Result<std::string> new_token();

// Creates a token for `principal`, appends its hash to the file at `path`
// (created if missing; written to a temporary file and renamed, mode 0600)
// and returns the token, which is stored nowhere. Refuses a name already in
// the file.
[[nodiscard]] Result<std::string> add_token(const std::string& path, const Principal& principal,
                                            const ReferenceData* ref);

}  // namespace hemoledger
