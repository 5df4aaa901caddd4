// The block map: logical block -> fragment address through di_db and the single, double and
// triple indirect blocks, and reading file contents through it. Private to the driver. Facts:
// NetBSD sys/ufs/ufs/ufs_bmap.c, sys/ufs/ffs/fs.h (blksize, the fragment tail rule).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.hpp"
#include "fs/ffs/fs.hpp"
#include "fs/ffs/inode.hpp"

namespace uk::ffs {

// The fragment address of logical block `lbn` of `inode` (0: a hole). Every indirect block
// read on the way is range-checked; the depth is at most three, so no loop is possible. The
// returned address is checked too: its g.blksize(inode.size, lbn) bytes lie inside the fs.
Result<std::uint64_t> map_block(FfsFs& fs, const InodeData& inode, std::uint64_t lbn);

// Read up to dst.size() bytes at `offset` (short at the end of the file; holes read as zeros).
Result<std::size_t> read_data(FfsFs& fs, const InodeData& inode, std::uint64_t offset,
                              std::span<std::byte> dst);

// bmap_write.cpp. Write src at `offset`, allocating as FFS does: whole blocks, but fragments
// for the last block of a file smaller than ndaddr blocks (grown in place or moved when the file
// grows), indirect blocks as needed. The inode's size and di_blocks change; the caller stores
// it. Returns src.size() (EFBIG past the largest file, ENOSPC when full).
Result<std::size_t> write_data(FfsFs& fs, InodeData& inode, std::uint64_t offset,
                               std::span<const std::byte> src);
// Change the size: larger leaves a hole, smaller frees the blocks (and indirect blocks) past
// the end and the fragments past the new tail.
Result<void> resize(FfsFs& fs, InodeData& inode, std::uint64_t size);

// A symlink's target: from the inode (fast) or its data blocks (slow).
Result<std::string> read_symlink(FfsFs& fs, const InodeData& inode);

}  // namespace uk::ffs
