// Shared by the libFuzzer targets in fuzz/: invariant checks that stop the
// run (a crash that libFuzzer records with its input), a guard that turns an
// escaped exception into such a crash, and the shipped reference data and lab
// mapping, loaded once. Each target asserts what its decoder promises in its
// header, not only that it does not crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "connectors/lab_mapping.h"
#include "events/reagent_catalogue.h"
#include "events/reference_data.h"

namespace hemoledger::fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", what, file, line);
  std::fflush(stderr);
  __builtin_trap();
}

// Decoders promise errors as values: an exception escaping `f` is a bug.
template <typename F>
void no_escape(const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: exception escaped %s: %s\n", what, e.what());
    std::fflush(stderr);
    __builtin_trap();
  } catch (...) {
    std::fprintf(stderr, "fuzz: unknown exception escaped %s\n", what);
    std::fflush(stderr);
    __builtin_trap();
  }
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline std::string read_data_file(const std::string& name) {
  std::ifstream in(std::string(HEMOLEDGER_DATA_DIR) + "/" + name, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz: cannot read data/%s\n", name.c_str());
    std::abort();
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline const ReferenceData& shipped_reference() {
  static const ReferenceData ref = [] {
    auto r = ReferenceData::parse(read_data_file("governorates.csv"),
                                  read_data_file("facilities.csv"), read_data_file("products.csv"),
                                  read_data_file("tests.csv"), read_data_file("neighbours.csv"));
    if (!r) std::abort();
    auto reagents = ReagentCatalogue::parse(read_data_file("reagents.csv"));
    if (!reagents) std::abort();
    r->set_reagents(std::move(*reagents));
    return std::move(r).value();
  }();
  return ref;
}

inline const LabMapping& shipped_mapping() {
  static const LabMapping mapping = [] {
    auto m = LabMapping::parse_json(read_data_file("lab_mapping.json"), shipped_reference());
    if (!m) std::abort();
    return std::move(m).value();
  }();
  return mapping;
}

// A small deterministic generator for chunk splits, seeded from the input.
struct SplitMix {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

inline std::uint64_t seed_of(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

}  // namespace hemoledger::fuzz

#define HL_FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::hemoledger::fuzz::fail(#cond, __FILE__, __LINE__))
