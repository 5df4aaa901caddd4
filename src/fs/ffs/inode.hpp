// An FFS inode, loaded and validated: the decoded fields the operations need and the block
// pointers (or a fast symlink's target bytes). Private to the driver. Facts: NetBSD
// sys/ufs/ufs/dinode.h, ffs_vfsops.c (ffs_load_inode), ufs_vnops.c (isshortlink).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

#include "base/result.hpp"
#include "fs/ffs/format.hpp"
#include "fs/ffs/fs.hpp"

namespace uk::ffs {

// Bytes of di_db and di_ib together: where a fast symlink keeps its target (UFS2's size).
inline constexpr std::size_t inode_ptr_bytes = (ndaddr + niaddr) * 8;

struct InodeData {
    std::uint32_t ino = 0;
    VType type = VType::none;
    std::uint16_t mode = 0;  // the whole di_mode, type bits included
    std::uint16_t nlink = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t size = 0;
    std::uint64_t blocks_512 = 0;  // di_blocks: DEV_BSIZE units held
    std::uint32_t flags = 0;       // di_flags (NetBSD chflags values)
    std::uint32_t gen = 0;
    timespec atime{}, mtime{}, ctime{}, birthtime{};
    std::array<std::uint64_t, ndaddr> db{};
    std::array<std::uint64_t, niaddr> ib{};
    std::array<std::byte, inode_ptr_bytes> ptr_bytes{};  // di_db and di_ib as stored
    std::uint32_t rdev = 0;                              // a device's NetBSD dev_t (di_db[0])

    // "ffs: inode 12" for messages.
    std::string what() const;
};

// Load inode `ino`: range check, then decode and validate (mode type, size against the
// largest file). EIO naming the inode for anything wrong (a free inode, a bad mode).
Result<InodeData> load_inode(FfsFs& fs, std::uint64_t ino);

// Whether a symlink's target lives in the inode (NetBSD's isshortlink).
bool fast_symlink(const Geometry& g, const InodeData& inode);

// inode_write.cpp. Write `inode` back into its inode block: the fields InodeData holds, the
// rest of the dinode as on disk (`fresh`: as zeros). A device's number and a fast symlink's
// target are written from ptr_bytes, other pointers from db and ib.
Result<void> store_inode(FfsFs& fs, const InodeData& inode, bool fresh = false);
// A free inode on disk: all zeros but the generation.
Result<void> clear_inode(FfsFs& fs, std::uint32_t ino, std::uint32_t gen);
// Keep NetBSD dev_t `netbsd_dev` in di_db[0] (ptr_bytes) of a device node.
void set_rdev(const Geometry& g, InodeData& inode, std::uint32_t netbsd_dev);

}  // namespace uk::ffs
