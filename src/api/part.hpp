// What the C API's struct ukfs_part is: a parsed partition selector (io/partition), and for
// the selectors that read the device (disklabel, MBR, GPT) the byte range found when
// ukfs_part_probe ran, as NetBSD's libukfs reads the disklabel at probe time. Reference
// counted like NetBSD's (ukfs.c: a mount holds a reference until ukfs_release).
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "base/result.hpp"
#include "io/block_device.hpp"
#include "io/partition/partition.hpp"

struct ukfs_part {
    enum class Kind {
        selector,  // from ukfs_part_probe
        none,      // ukfs_part_none: the whole device
        na,        // ukfs_part_na: not a disk device (ukfs_mount); no lock, no partition
    };

    constexpr explicit ukfs_part(Kind k = Kind::selector) : kind(k) {}

    Kind kind;
    uk::io::PartSpec spec;                         // WholeDevice for none and na
    std::optional<uk::io::Extent> extent;          // found by ukfs_part_probe, if it looked
    std::atomic<int> refcount{1};                    // not used for none and na (static)
};

namespace uk::api {

// Take a reference for a mount; give it back with ukfs_part_release. NULL stays NULL.
ukfs_part* part_retain(ukfs_part* part);

// NULL counts as ukfs_part_none (NetBSD's UKFS_DEVICE_ARGVPROBE stores NULL for "no part").
bool part_is_na(const ukfs_part* part);

// The device a mount of `part` uses: `whole` itself for none, na and NULL; otherwise the
// partition, at the range ukfs_part_probe found or, for %OFFSET, resolved now.
Result<std::shared_ptr<io::BlockDevice>> part_device(std::shared_ptr<io::BlockDevice> whole,
                                                     const ukfs_part* part);

}  // namespace uk::api
