// Making an ext2, ext3 or ext4 file system: uk::ext2fs::mkfs. The layout follows mke2fs
// (e2fsprogs 1.47, Debian 12's mke2fs.conf profiles without resize_inode): the size types
// (floppy, small, default, big, huge) choose the block size and bytes per inode; groups, inodes
// per group, the last-group trim, sparse_super backups, flex_bg packing of bitmaps and inode
// tables, lost+found's preallocated blocks and the journal size table are mke2fs's. Inode
// tables are written zeroed (mke2fs with lazy_itable_init=0). resize_inode, meta_bg, bigalloc
// and the other features not listed in mkfs_params.cpp are not made.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "io/block_device.hpp"
#include "vfs/registry.hpp"

namespace uk::ext2fs {

struct MkfsOptions {
    // The feature set to make (s_feature_* bits). Defaults: Debian 12's ext4 profile without
    // resize_inode.
    std::uint32_t compat = 0;
    std::uint32_t incompat = 0;
    std::uint32_t ro_compat = 0;
    std::uint32_t block_size = 0;      // 1024 to 65536; 0: from the size type
    std::uint32_t inode_size = 256;    // 128 to the block size, a power of two
    std::uint64_t inode_ratio = 0;     // bytes per inode; 0: from the size type
    std::uint64_t journal_blocks = 0;  // 1024 to 10240000; 0: journal_mib, else mke2fs's table
    std::uint64_t journal_mib = 0;     // the journal in MiB (mke2fs -J size=)
    std::string label;                 // up to 16 bytes
    std::optional<std::array<std::uint8_t, 16>> uuid;
    std::optional<std::array<std::uint8_t, 16>> hash_seed;
    std::optional<std::uint32_t> time;  // seconds since 1970 (at most 2^31 - 1); now if unset
    // Derive the UUID and hash seed when not given. The rest follows from them: the journal's
    // UUID is the file system's, the checksum seed is crc32c(UUID), and inode generations
    // are 0 as mke2fs leaves them.
    std::optional<std::uint64_t> seed;
    double reserved_ratio = 5.0;  // percent of blocks reserved for root
};

// The defaults for `fstype` ("ext2", "ext3" or "ext4"), EINVAL for another name.
Result<MkfsOptions> mkfs_defaults(const std::string& fstype);

// Parse fsu mkfs -o words: fstype, blocksize, inode_size, inode_ratio, features (mke2fs -O
// syntax, ',' or ':' between), journal_size (MiB), journal_blocks, label, uuid, hash_seed, time, seed,
// reserved_ratio. EINVAL naming an unknown key, a bad value or a feature we cannot make.
Result<MkfsOptions> parse_mkfs_params(const vfs::FormatParams& params);

// Write a new, empty file system over the whole of `dev`. EINVAL for options that cannot make
// a valid file system (the device too small or too large, too many inodes...).
Result<void> mkfs(io::BlockDevice& dev, const MkfsOptions& options);

// The driver's mkfs hook: parse_mkfs_params, then mkfs.
Result<void> mkfs_params(io::BlockDevice& dev, const vfs::FormatParams& params);

}  // namespace uk::ext2fs
