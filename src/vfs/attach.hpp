// Attaching a file system: open the device, cut it to the selected partition, lock its byte
// range, pick the driver (by name or by detection), mount, and wrap the result in a Mount.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "io/partition/extent.hpp"
#include "io/partition/selector.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

namespace uk::vfs {

struct AttachRequest {
    std::string type;         // a registered type name; "" detects the type
    std::string device_path;  // without a selector
    io::PartSpec part;        // WholeDevice when none
    // The partition's bytes when already known (ukfs_part_probe reads a disklabel at probe
    // time, as NetBSD's does); otherwise `part` is resolved at attach.
    std::optional<io::Extent> extent;
    int flags = 0;  // MNT_*
    const void* args = nullptr;
    std::size_t args_len = 0;
    std::size_t cache_budget = std::size_t{64} << 20;
    Clock clock{};  // the time and seed of the mount's writes
    std::vector<std::pair<std::string, std::string>> params;  // MountRequest::params
};

Result<std::unique_ptr<Mount>> attach(const AttachRequest& req);

// Split "image%SELECTOR%" into the request's path and partition.
Result<void> set_device(AttachRequest& req, std::string_view device_with_selector);

// Make a file system of `type` on `device` (an image or block device, with an optional
// partition selector), locked for writing while it works. An image file that does not exist
// is created when `size` is given; a regular file is set to `size` bytes when it is non-zero.
Result<void> format(std::string_view type, std::string_view device, std::uint64_t size,
                    const FormatParams& params);

// Check the file system on `device` with its type's checker (`type` "" detects it), opened
// read-only and locked against writers. ENOTSUP when the type has no checker.
Result<int> check(std::string_view type, std::string_view device, const LineSink& out);

}  // namespace uk::vfs
