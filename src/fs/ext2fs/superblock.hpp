// The superblock, validated once at mount, and the Geometry derived from it: after mount the
// driver trusts the Geometry, never the raw superblock. Private to the driver.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "fs/ext2fs/format.hpp"
#include "io/block_device.hpp"

namespace uk::ext2fs {

struct Geometry {
    std::uint32_t block_size = 0;
    std::uint32_t log_block_size = 0;  // log2(block_size)
    std::uint64_t blocks_count = 0;
    std::uint32_t first_data_block = 0;
    std::uint32_t blocks_per_group = 0;
    std::uint32_t inodes_per_group = 0;
    std::uint32_t inodes_count = 0;
    std::uint32_t inode_size = 0;
    std::uint32_t first_ino = 0;
    std::uint32_t group_count = 0;
    std::uint32_t desc_size = 0;       // bytes per group descriptor
    std::uint32_t desc_per_block = 0;
    std::uint32_t desc_blocks = 0;     // blocks the descriptor table takes
    std::uint32_t inode_table_blocks = 0;  // per group
    std::uint32_t first_meta_bg = 0;
    std::uint32_t reserved_gdt_blocks = 0;  // s_reserved_gdt_blocks (resize_inode)
    std::uint32_t feature_compat = 0;
    std::uint32_t feature_incompat = 0;
    std::uint32_t feature_ro_compat = 0;
    std::array<std::uint32_t, 2> backup_bgs{};
    std::array<std::uint8_t, 16> uuid{};
    std::uint32_t csum_seed = 0;  // crc32c seed of every metadata_csum checksum
    std::uint64_t free_blocks = 0;
    std::uint64_t reserved_blocks = 0;
    std::uint32_t free_inodes = 0;
    std::uint32_t creator_os = 0;
    // Directory hashing (dir_index): s_hash_seed as four words, s_def_hash_version for new
    // indexes, and whether the legacy/half_md4/tea hashes read name bytes unsigned (s_flags).
    std::array<std::uint32_t, 4> hash_seed{};
    std::uint8_t def_hash_version = 0;
    bool hash_unsigned = false;

    bool has_compat(std::uint32_t f) const { return (feature_compat & f) != 0; }
    bool has_incompat(std::uint32_t f) const { return (feature_incompat & f) != 0; }
    bool has_ro_compat(std::uint32_t f) const { return (feature_ro_compat & f) != 0; }
    bool metadata_csum() const { return has_ro_compat(ro_compat_metadata_csum); }
    // Group descriptors carry a crc16 (gdt_csum) when metadata_csum is off.
    bool gdt_csum() const { return !metadata_csum() && has_ro_compat(ro_compat_gdt_csum); }
    bool group_has_super(std::uint32_t group) const;

    // The one choke point for block numbers read from disk: [first, first + count) must lie
    // in [first_data_block, blocks_count). `what` names the structure for the message.
    Result<void> check_blocks(std::uint64_t first, std::uint64_t count,
                              const std::string& what) const;
};

// The superblock of `dev`, read by value; EINVAL when the device is too small or the magic is
// not ext2's.
Result<Superblock> read_superblock(io::BlockDevice& dev);

// Validate and derive, in e2fsprogs openfs.c's order: field ranges, derived values, cross-field
// products, the device size. Allocates nothing. EINVAL naming the field for a bad value, EIO
// for a checksum mismatch.
Result<Geometry> derive_geometry(const Superblock& sb, std::uint64_t device_bytes);

// Feature gates: an incompat feature we do not understand refuses the mount (EINVAL naming it);
// a ro_compat feature we do not understand allows read-only mounts only (EROFS otherwise).
Result<void> check_features(const Superblock& sb, bool read_only);

// A feature mask as names ("64bit|extents"), for messages.
std::string compat_names(std::uint32_t mask);
std::string incompat_names(std::uint32_t mask);
std::string ro_compat_names(std::uint32_t mask);

// The superblock's crc32c as metadata_csum defines it.
std::uint32_t superblock_checksum(const Superblock& sb);

}  // namespace uk::ext2fs
