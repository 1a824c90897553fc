#include "engine/security/token_file.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace hemoledger {

using nlohmann::json;

namespace {

// The oldest OpenSSL error of this thread as a sentence, and the queue cleared.
Error openssl_error(const std::string& what) {
  const unsigned long code = ERR_get_error();
  char buf[256] = "no detail";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return make_error("crypto_error", what + " failed in OpenSSL (" + buf + ").");
}

std::string to_hex(const unsigned char* p, std::size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 0xf];
  }
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool from_hex(const std::string& s, std::array<unsigned char, 32>& out) {
  if (s.size() != 64) return false;
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return true;
}

Result<std::array<unsigned char, 32>> sha256(const std::string& bytes) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    return openssl_error("SHA-256");
  }
  return out;
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("bad_token_file", "Cannot read the token file " + path + ".");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<TokenFile> TokenFile::parse(const std::string& text, const std::string& origin,
                                   const ReferenceData* ref) {
  auto bad = [&](const std::string& why) {
    return make_error("bad_token_file", origin + ": " + why);
  };
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("tokens") || !j["tokens"].is_array()) {
    return bad("not a token file: expected {\"tokens\": [...]} (docs/security.md).");
  }
  TokenFile f;
  std::set<std::string> names, hashes;
  for (std::size_t i = 0; i < j["tokens"].size(); ++i) {
    const json& t = j["tokens"][i];
    const std::string where = "entry " + std::to_string(i + 1);
    if (!t.is_object()) return bad(where + " is not an object.");
    auto str = [&](const char* k) {
      return t.contains(k) && t[k].is_string() ? t[k].get<std::string>() : std::string();
    };
    TokenEntry e;
    e.principal.name = str("name");
    if (e.principal.name.empty()) return bad(where + " has no name.");
    if (!names.insert(e.principal.name).second) {
      return bad(where + ": the name " + e.principal.name + " is used twice.");
    }
    const auto role = parse_role(str("role"));
    if (!role) {
      return bad(where + " (" + e.principal.name +
                 "): role must be station, lab, coordinator or admin.");
    }
    e.principal.role = *role;
    e.principal.facility = str("facility");
    if (role_has_facility(*role) && e.principal.facility.empty()) {
      return bad(where + " (" + e.principal.name + "): a " + std::string(to_string(*role)) +
                 " token needs a facility.");
    }
    if (!role_has_facility(*role) && !e.principal.facility.empty()) {
      return bad(where + " (" + e.principal.name + "): a " + std::string(to_string(*role)) +
                 " token has no facility.");
    }
    if (ref && !e.principal.facility.empty() && ref->facility(e.principal.facility) == nullptr) {
      return bad(where + " (" + e.principal.name + "): no facility " + e.principal.facility +
                 " in the reference data.");
    }
    const std::string hash = str("sha256");
    if (!from_hex(hash, e.sha256)) {
      return bad(where + " (" + e.principal.name + "): sha256 must be 64 hex digits.");
    }
    if (!hashes.insert(to_hex(e.sha256.data(), e.sha256.size())).second) {
      return bad(where + " (" + e.principal.name + "): the same token hash is listed twice.");
    }
    f.entries_.push_back(std::move(e));
  }
  return f;
}

Result<TokenFile> TokenFile::load(const std::string& path, const ReferenceData* ref) {
  auto text = read_text(path);
  if (!text) return text.error();
  return parse(*text, path, ref);
}

std::optional<Principal> TokenFile::authenticate(const std::string& token) const {
  if (token.empty()) return std::nullopt;
  auto h = sha256(token);
  if (!h) return std::nullopt;
  const TokenEntry* found = nullptr;
  // Every entry is compared, in constant time each, whatever matched.
  for (const auto& e : entries_) {
    if (CRYPTO_memcmp(e.sha256.data(), h->data(), h->size()) == 0) found = &e;
  }
  if (!found) return std::nullopt;
  return found->principal;
}

std::optional<Principal> TokenFile::principal_named(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.principal.name == name) return e.principal;
  }
  return std::nullopt;
}

Result<std::string> sha256_hex(const std::string& bytes) {
  auto h = sha256(bytes);
  if (!h) return h.error();
  return to_hex(h->data(), h->size());
}

Result<std::string> new_token() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) return openssl_error("Generating a random token");
  const std::string token = "hl_" + to_hex(buf, sizeof buf);
  OPENSSL_cleanse(buf, sizeof buf);
  return token;
}

Result<std::string> add_token(const std::string& path, const Principal& principal,
                              const ReferenceData* ref) {
  json file = {{"tokens", json::array()}};
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    auto text = read_text(path);
    if (!text) return text.error();
    auto checked = TokenFile::parse(*text, path, nullptr);
    if (!checked) return checked.error();
    file = json::parse(*text);
    for (const auto& e : checked->entries()) {
      if (e.principal.name == principal.name) {
        return make_error("duplicate_token_name",
                          path + " already has a token named " + principal.name + ".");
      }
    }
  }
  json entry = {{"name", principal.name}, {"role", std::string(to_string(principal.role))}};
  if (!principal.facility.empty()) entry["facility"] = principal.facility;
  auto token = new_token();
  if (!token) return token.error();
  auto hash = sha256_hex(*token);
  if (!hash) return hash.error();
  entry["sha256"] = *hash;
  file["tokens"].push_back(entry);
  // The new entry must pass the same checks the engine makes at start.
  if (auto s = TokenFile::parse(file.dump(), path, ref); !s) return s.error();

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error("bad_token_file", "Cannot write " + tmp + ".");
    out << file.dump(2) << "\n";
    if (!out.flush()) return make_error("bad_token_file", "Cannot write " + tmp + ".");
  }
  ::chmod(tmp.c_str(), 0600);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return make_error("bad_token_file", "Cannot replace " + path + ": " + ec.message() + ".");
  return *token;
}

}  // namespace hemoledger
