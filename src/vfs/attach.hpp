// Attaching a file system: open the device, cut it to the selected partition, lock its byte
// range, pick the driver (by name or by detection), mount, and wrap the result in a Mount.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "io/partition/extent.hpp"
#include "io/partition/selector.hpp"
#include "vfs/mount.hpp"

namespace uk::vfs {

struct AttachRequest {
    std::string type;          // a registered type name; "" detects the type
    std::string device_path;   // without a selector
    io::PartSpec part;         // WholeDevice when none
    // The partition's bytes when already known (ukfs_part_probe reads a disklabel at probe
    // time, as NetBSD's does); otherwise `part` is resolved at attach.
    std::optional<io::Extent> extent;
    int flags = 0;             // MNT_*
    const void* args = nullptr;
    std::size_t args_len = 0;
    std::size_t cache_budget = std::size_t{64} << 20;
};

Result<std::unique_ptr<Mount>> attach(const AttachRequest& req);

// Split "image%SELECTOR%" into the request's path and partition.
Result<void> set_device(AttachRequest& req, std::string_view device_with_selector);

}  // namespace uk::vfs
