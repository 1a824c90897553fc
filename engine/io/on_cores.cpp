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

void for_each_item_on_cores(std::size_t n, std::size_t min_for_cores,
                            const std::function<void(std::size_t)>& work) {
  const std::size_t stride = n >= min_for_cores ? cores() : 1;
  auto done = for_each_on_cores(stride, [&](std::size_t first) {
    for (std::size_t i = first; i < n; i += stride) work(i);
    return Status{};
  });
  (void)done;  // the work cannot fail
}

}  // namespace hemoledger
