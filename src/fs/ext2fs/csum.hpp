// Metadata checksums: metadata_csum's crc32c over each structure, seeded per file system and
// per inode, and gdt_csum's crc16 over group descriptors. Facts: kernel ext4 checksums.rst,
// group_descr.rst, inodes.rst, directory.rst; fs/ext4 ext4_group_desc_csum() for the crc16.
// Private to the driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "fs/ext2fs/superblock.hpp"

namespace uk::ext2fs {

// CRC-16 with the reflected polynomial 0xA001 (0x8005), no inversion: the kernel's crc16().
std::uint16_t crc16(std::uint16_t crc, std::span<const std::byte> bytes);

// The per-inode seed of inode, extent and directory checksums:
// crc32c(crc32c(fs seed, le32 ino), le32 i_generation).
std::uint32_t inode_csum_seed(const Geometry& g, std::uint32_t ino, std::uint32_t generation);

// The checksum a group descriptor (desc_size bytes) should carry, by metadata_csum or
// gdt_csum rules (the caller knows which applies).
std::uint16_t group_desc_checksum(const Geometry& g, std::uint32_t group,
                                  std::span<const std::byte> desc);

// The inode's crc32c over its inode_size bytes with i_checksum_lo and i_checksum_hi taken as
// zero. `with_hi` says whether i_extra_isize covers i_checksum_hi (else only 16 bits count).
std::uint32_t inode_checksum(const Geometry& g, std::uint32_t ino, std::uint32_t generation,
                             std::span<const std::byte> raw, bool with_hi);

// EIO naming the structure when the stored value differs from the computed one.
Result<void> check_csum(std::uint32_t stored, std::uint32_t computed, std::string_view what);

}  // namespace uk::ext2fs
