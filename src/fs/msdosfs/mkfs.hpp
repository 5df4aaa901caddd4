// Making a FAT file system: uk::msdosfs::mkfs. The type and cluster size follow from the
// volume size as mkfs.fat chooses them (FAT12 while the clusters fit, FAT16 below 512 MiB,
// FAT32 above; clusters of 2 KiB on FAT12/16 and 4 to 32 KiB on FAT32 after Microsoft's
// table), or as asked.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "io/block_device.hpp"

namespace uk::msdosfs {

struct MkfsOptions {
    int fat_type = 0;                  // 12, 16, 32, or 0: chosen from the size
    std::uint32_t sector_size = 0;     // 512 to 4096; 0: the device's (at least 512)
    std::uint32_t sectors_per_cluster = 0;  // a power of two up to 128; 0: chosen
    std::uint32_t num_fats = 2;
    std::uint32_t root_entries = 512;  // FAT12/16
    std::string label;                 // up to 11 characters; empty: "NO NAME"
    std::uint32_t volume_id = 0x12345678;
    std::uint64_t size = 0;            // bytes to use; 0: the whole device
};

// Write a new, empty FAT file system on `dev`. EINVAL for options that cannot make a valid
// volume (too small or too large for the type, a cluster size out of range).
Result<void> mkfs(io::BlockDevice& dev, const MkfsOptions& options);

}  // namespace uk::msdosfs
