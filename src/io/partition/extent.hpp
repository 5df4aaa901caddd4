// A byte range of a device: where a partition lives.
#pragma once

#include <cstdint>

namespace uk::io {

struct Extent {
    std::uint64_t offset = 0;  // bytes from the start of the device
    std::uint64_t size = 0;    // bytes
    bool operator==(const Extent&) const = default;
};

}  // namespace uk::io
