// Block mapping: file block -> file system block, for extent-mapped inodes (an extent tree)
// and for the classic scheme (12 direct, then single, double and triple indirect blocks).
// Private to the driver. Facts: kernel ext4 blockmap.rst and ifork.rst ("Extent Tree").
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/inode.hpp"

namespace uk::ext2fs {

// A run of file blocks starting at the asked one: `count` (>= 1) blocks mapped to consecutive
// file system blocks from `pblock`, or, when pblock is 0, a hole (never written, or an
// unwritten extent) that reads as zeros. A hole past the last mapping may be very long: the
// caller stops at the file's size.
struct Run {
    std::uint64_t pblock = 0;
    std::uint64_t count = 0;
    bool hole() const { return pblock == 0; }
};

// Map `lblock` of `inode` (not inline, not a fast symlink or device). Every block number met is
// range-checked, every tree node validated (and checksummed with metadata_csum); EIO names the
// inode and the node at fault.
Result<Run> map_block(Ext2Fs& fs, const InodeData& inode, std::uint64_t lblock);

}  // namespace uk::ext2fs
