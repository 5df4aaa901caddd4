// Hash tree (dir_index) directories: lookup by hash, and changes that keep the index valid.
// Private to the driver. Facts: kernel ext4 directory.rst ("Hash Tree Directories": dx_root,
// dx_node, dx_tail, the hash-collision bit) and the kernel's namei.c behaviour (dx_probe's
// checks and binary search, do_split's size-wise leaf split, index node splits and added
// levels, make_indexed_dir, the "index full" limit).
//
// The tree: block 0 is the root ("." and ".." whose rec_len spans the block, a DxRootInfo, then
// a DxCountLimit over entry 0 and the DxEntry items); indirect_levels interior levels (at most
// 1, or 2 with largedir) of nodes (a fake entry spanning the block, then the same list); then
// leaves, ordinary entry blocks. Entry i > 0 holds the lowest hash in its subtree; entry 0's
// hash slot is the count and limit. A hash with bit 0 set marks a leaf that continues the
// hash of the leaf before it (names of one hash split across two leaves).
//
// Everything read is checked before use: the root's fields, every node's limit (it must match
// the block size), count (1..limit), child block numbers (inside the directory, not the root),
// sorted hashes, the depth; a bad index is EIO naming the block, never a crash or a loop (the
// walk to a following leaf only moves forward).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "base/result.hpp"
#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/inode.hpp"

namespace uk::ext2fs {

// The inode number of `name` in the indexed directory `dir`, ENOENT when absent.
Result<InodeNo> dx_lookup(Ext2Fs& fs, const InodeData& dir, std::string_view name);

// Find live entry `name` in a leaf of indexed `dir` and call fn(leaf buffer, offset, offset of
// the entry before it or -1, rec_len); false when absent. fn reseals the leaf it changes.
using LeafEntryFn =
    std::function<Result<void>(io::BufRef&, std::uint32_t, std::int64_t, std::uint32_t)>;
Result<bool> dx_find(Ext2Fs& fs, const InodeData& dir, std::string_view name,
                     const LeafEntryFn& fn);

// Add entry `name` -> `ino` (absent) to indexed `dir`, splitting a full leaf and growing the
// index as needed (new blocks are appended: `dir`'s size and map change). ENOSPC when the
// index is full at its maximum depth, as the kernel says.
Result<void> dx_add(Ext2Fs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                    VType type);

// Turn the one-block linear `dir` into an indexed one: its entries move to a new leaf (block
// 1) and block 0 becomes the root with one entry. Sets the index flag. false (nothing done)
// when the first block does not start with "." and ".." as it must, or the default hash is
// not one we compute.
Result<bool> dx_make_indexed(Ext2Fs& fs, InodeData& dir);

// Point ".." of indexed `dir` at `ino` (file type byte `ft`) and reseal the root.
Result<void> dx_set_parent(Ext2Fs& fs, const InodeData& dir, std::uint32_t ino, std::uint8_t ft);

}  // namespace uk::ext2fs
