// Percentiles of latency samples in milliseconds, as the bench reports them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <vector>

namespace hemoledger::bench {

struct Percentiles {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

inline Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.max = v.back();
  return p;
}

inline nlohmann::json to_json(const Percentiles& p) {
  return {{"samples", p.n}, {"p50_ms", p.p50}, {"p99_ms", p.p99}, {"max_ms", p.max}};
}

}  // namespace hemoledger::bench
