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

// A symlink's target.
Result<std::string> read_symlink(Ext2Fs& fs, const InodeData& inode);

}  // namespace uk::ext2fs
