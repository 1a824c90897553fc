#include "engine/io/on_cores.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace hemoledger {

std::size_t cores() { return std::max(1u, std::thread::hardware_concurrency()); }

Status for_each_on_cores(std::size_t n, const std::function<Status(std::size_t)>& work) {
  std::vector<Status> results(n);
  std::atomic<std::size_t> next{0};
  auto loop = [&] {
    for (std::size_t i = next++; i < n; i = next++) results[i] = work(i);
  };
  const std::size_t helpers = n > 0 ? std::min(n, cores()) - 1 : 0;
  std::vector<std::thread> threads;
  threads.reserve(helpers);
  for (std::size_t t = 0; t < helpers; ++t) threads.emplace_back(loop);
  loop();
  for (auto& t : threads) t.join();
  for (auto& r : results) {
    if (!r) return r;
  }
  return {};
}

}  // namespace hemoledger
