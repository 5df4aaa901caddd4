// Range checks on the hot paths (every block read, every inode loaded or stored) whose message
// is made only when the check fails. Private to the driver.
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "fs/ffs/superblock.hpp"

namespace uk::ffs {

// Geometry::check_frags(first, count, what()), calling `what` only on failure.
template <class What>
Result<void> check_frags_lazy(const Geometry& g, std::uint64_t first, std::uint64_t count,
                              What&& what) {
    if (first != 0 && first < g.size && count <= g.size - first)
        return {};
    return g.check_frags(first, count, what());
}

}  // namespace uk::ffs
