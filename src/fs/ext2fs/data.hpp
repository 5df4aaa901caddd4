// File contents: regular file data through the block map or inline data, and symlink targets
// (fast, slow or inline). Private to the driver. Facts: kernel ext4 inline_data.rst,
// ifork.rst ("Inline data", "Symbolic links").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/inode.hpp"

namespace uk::ext2fs {

inline constexpr std::uint64_t symlink_max = 4095;  // PATH_MAX - 1

// An inline-data inode's bytes: i_block (60 bytes) followed by the system.data xattr value.
Result<std::vector<std::byte>> inline_content(const InodeData& inode);

// Read file bytes at `offset` into dst; short at the end of the file, zeros in holes.
// Allocates nothing that depends on i_size.
Result<std::size_t> read_data(Ext2Fs& fs, const InodeData& inode, std::uint64_t offset,
                              std::span<std::byte> dst);

// Write src at `offset` of a regular file (or slow symlink), allocating holes and extending
// i_size. Changes `inode` (size, map, block count); the caller sets times and stores it.
Result<std::size_t> write_data(Ext2Fs& fs, InodeData& inode, std::uint64_t offset,
                               std::span<const std::byte> src);

// Set a regular file's size: blocks past it are freed, the rest of its last block zeroed, a
// larger size leaves a hole. The caller stores the inode.
Result<void> resize(Ext2Fs& fs, InodeData& inode, std::uint64_t size);

// The largest size a file of `inode`'s mapping can have.
std::uint64_t max_file_size(const Geometry& g, const InodeData& inode);

// A symlink's target.
Result<std::string> read_symlink(Ext2Fs& fs, const InodeData& inode);

}  // namespace uk::ext2fs
