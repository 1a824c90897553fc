// for_each_on_cores: runs work(i) for every i in [0, n) on up to as many
// threads as the machine has cores, the calling thread included, each i
// exactly once, and returns when all are done. The first failure in index
// order is returned; the others still run. With n <= 1 nothing but the
// calling thread runs.
//
//   auto s = for_each_on_cores(partitions.size(), [&](std::size_t i) { return replay(i); });
//
// For pure or disjoint work: the replay of independent partitions (rebuild)
// and the decoding of a batch's records (the apply loop). Threads are started
// per call and joined before it returns, so `work` may capture locals.
//
// Threading: work(i) runs concurrently with work(j); it must not share
// mutable state with them without its own synchronisation.
#pragma once

#include <cstddef>
#include <functional>

#include "events/result.h"

namespace hemoledger {

[[nodiscard]] Status for_each_on_cores(std::size_t n,
                                       const std::function<Status(std::size_t)>& work);

// work(i) for every item i in [0, n): on every core (each thread takes every
// cores()-th item) when there are at least `min_for_cores` items, otherwise
// on the calling thread alone. For work that cannot fail, per item.
void for_each_item_on_cores(std::size_t n, std::size_t min_for_cores,
                            const std::function<void(std::size_t)>& work);

// The cores for_each_on_cores uses (at least 1).
std::size_t cores();

}  // namespace hemoledger
