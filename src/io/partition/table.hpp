// MBR and GPT partition tables, read with libblkid's probe API (libblkid(3), "Partitions
// probing"). blkid numbers MBR partitions as Linux does (1-4 primary, 5 and up logical) and
// reports starts and sizes in 512-byte sectors whatever the device's sector size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "io/block_device.hpp"
#include "io/partition/extent.hpp"

namespace uk::io {

struct TableEntry {
    std::uint32_t number = 0;  // blkid's partno
    Extent extent;             // bytes from the start of the device
    std::string name;          // GPT partition name (UTF-8); empty for MBR
    std::string type;          // MBR type ("0x83") or GPT type GUID
    bool logical = false;      // MBR: inside the extended partition
    bool extended = false;     // MBR: the extended partition itself (a container)
};

struct PartitionTable {
    std::string type;  // blkid's name for it: "dos" (MBR), "gpt", "bsd", "sun", ...
    std::vector<TableEntry> entries;  // the top-level table's entries; nested tables left out
};

inline constexpr std::string_view mbr_table_type = "dos";
inline constexpr std::string_view gpt_table_type = "gpt";

// Probe `dev` for a partition table. ENOENT when there is none. A device without a host file
// (a MemoryDevice) is copied into a memfd first, since libblkid reads from a descriptor.
Result<PartitionTable> read_partition_table(BlockDevice& dev);

// The entry of an MBR table numbered `number`, or of a GPT table numbered `number` or named
// `name`. ENOENT: the device has no such table or no such partition (the message lists what it
// has); EINVAL: an extended partition (a container), or a name two partitions share; ENXIO: the
// partition reaches past the end of the device (`device_size` bytes).
Result<Extent> mbr_partition(const PartitionTable& table, std::uint32_t number,
                             std::uint64_t device_size);
Result<Extent> gpt_partition(const PartitionTable& table, std::uint32_t number,
                             std::uint64_t device_size);
Result<Extent> gpt_partition_named(const PartitionTable& table, std::string_view name,
                                   std::uint64_t device_size);

}  // namespace uk::io
