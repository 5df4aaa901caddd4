// Partitions: from a selector (selector.hpp) to the byte range it names on a device, and a
// device limited to that range. The one header a caller of the partition layer needs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "io/block_device.hpp"
#include "io/partition/extent.hpp"
#include "io/partition/selector.hpp"

namespace uk::io {

// The bytes of `whole` that `spec` selects. WholeDevice is all of it; %OFFSET is checked
// against the device's size; the others read the device's disklabel or partition table.
// Errors name the device and the structure: ENOENT no such table or partition, ENXIO a
// partition reaching past the end, EINVAL an extended partition or an ambiguous GPT name, EIO
// a corrupt table.
Result<Extent> resolve(const PartSpec& spec, BlockDevice& whole);

// `whole` itself for WholeDevice, otherwise a SliceDevice over the resolved extent.
Result<std::shared_ptr<BlockDevice>> open_partition(std::shared_ptr<BlockDevice> whole,
                                                    const PartSpec& spec);

// Every partition found on `whole`: the disklabel's, then the MBR's or GPT's, each with the
// selector that picks it. No table at all is an empty list, not an error; a table that is there
// but broken is the error it gives.
struct FoundPartition {
    PartSpec spec;
    Extent extent;
    std::string what;  // "disklabel fstype 7", "MBR type 0x83", "GPT \"root\"", ...
};
Result<std::vector<FoundPartition>> list_partitions(BlockDevice& whole);

}  // namespace uk::io
