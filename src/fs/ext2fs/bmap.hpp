// Block mapping: file block -> file system block, for extent-mapped inodes (an extent tree)
// and for the classic scheme (12 direct, then single, double and triple indirect blocks).
// Private to the driver. Facts: kernel ext4 blockmap.rst and ifork.rst ("Extent Tree").
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.hpp"
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

inline constexpr std::uint64_t extent_space = std::uint64_t{1} << 32;  // ee_block is 32 bits

// An extent tree node's header, checked against the node's size and the depth expected
// (-1: any); and, with metadata_csum, a tree block's checksum.
Result<ExtentHeader> read_extent_header(ByteView node, int expected_depth,
                                        const std::string& what);
Result<void> verify_extent_block(const Geometry& g, const InodeData& inode, ByteView node,
                                 const ExtentHeader& h, const std::string& what);

// Map `lblock` of `inode` (not inline, not a fast symlink or device). Every block number met is
// range-checked, every tree node validated (and checksummed with metadata_csum); EIO names the
// inode and the node at fault.
Result<Run> map_block(Ext2Fs& fs, const InodeData& inode, std::uint64_t lblock);

// bmap_write.cpp (read-write mounts). Make file block `lblock` mapped to an initialised block,
// allocating a hole (up to `count` blocks at once) or converting an unwritten extent; the run
// returned starts at lblock. `fresh` says its blocks hold nothing of the file yet (the caller
// zeroes what it does not write). Updates inode.i_block and blocks_512; the caller stores the
// inode.
struct AllocRun {
    std::uint64_t pblock = 0;
    std::uint64_t count = 0;
    bool fresh = false;
};
Result<AllocRun> map_alloc(Ext2Fs& fs, InodeData& inode, std::uint64_t lblock,
                           std::uint64_t count);

// Free every block from file block `keep` on, and the tree or indirect blocks no longer
// needed. Updates inode.i_block and blocks_512; the caller stores the inode.
Result<void> truncate_blocks(Ext2Fs& fs, InodeData& inode, std::uint64_t keep);

}  // namespace uk::ext2fs
