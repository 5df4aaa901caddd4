// The FFS superblock, found and validated once, and the Geometry derived from it: after this
// the driver (and the checker, and newfs) trust the Geometry, never the raw superblock. Public
// to the ffs folder. Facts: NetBSD sys/ufs/ffs/fs.h (the address macros), ffs_vfsops.c
// (the superblock search and ffs_superblock_validate's checks).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/endian.hpp"
#include "base/result.hpp"
#include "fs/ffs/format.hpp"
#include "io/block_device.hpp"

namespace uk::ffs {

struct Geometry {
    Order order;                      // the byte order the magic matched in
    bool ufs2 = false;                // UFS2 (64-bit pointers, 256-byte inodes)
    std::uint64_t sblock_offset = 0;  // byte offset the superblock was read at
    std::uint32_t bsize = 0, fsize = 0, frag = 0;
    std::uint32_t bshift = 0, fshift = 0, fragshift = 0;
    std::uint32_t ncg = 0, ipg = 0, fpg = 0;
    std::uint32_t sblkno = 0, cblkno = 0, iblkno = 0, dblkno = 0;  // fragments from cgstart
    std::uint32_t old_cgoffset = 0, old_cgmask = 0;                // UFS1's rotating cg start
    std::uint64_t size = 0;                                        // fragments in the file system
    std::uint64_t dsize = 0;                                       // data fragments
    std::uint64_t csaddr = 0;         // fragment of the cg summary area
    std::uint32_t cssize = 0;         // bytes of the summary area
    std::uint32_t cgsize = 0;         // bytes of a cg header with its maps
    std::uint32_t inode_size = 0;     // 128 (UFS1) or 256 (UFS2)
    std::uint32_t ptr_size = 0;       // 4 (UFS1) or 8 (UFS2)
    std::uint32_t inopb = 0;          // inodes per block
    std::uint32_t nindir = 0;         // pointers per indirect block
    std::uint32_t maxsymlinklen = 0;  // longest target kept in the inode (0: none)
    std::uint64_t maxfilesize = 0;    // the block map's limit (and the superblock's, if lower)
    bool old_dirfmt = false;          // 4.2BSD directories: 16-bit d_namlen, no d_type
    std::uint32_t minfree = 0;        // percent reserved
    std::uint32_t maxbpg = 0;         // fs_maxbpg: blocks of a file in one group before moving on
    std::uint32_t flags = 0;          // fs_flags (UFS1: fs_old_flags if not updated)
    std::uint8_t clean = 0;           // fs_clean
    std::uint64_t cs_ndir = 0, cs_nbfree = 0, cs_nifree = 0, cs_nffree = 0;  // fs_cstotal

    std::uint64_t inodes() const { return std::uint64_t{ncg} * ipg; }
    // fs.h's address arithmetic, over validated values.
    std::uint64_t cgbase(std::uint32_t c) const { return std::uint64_t{fpg} * c; }
    std::uint64_t cgstart(std::uint32_t c) const {
        return ufs2 ? cgbase(c) : cgbase(c) + std::uint64_t{old_cgoffset} * (c & ~old_cgmask);
    }
    std::uint64_t cgsblock(std::uint32_t c) const { return cgstart(c) + sblkno; }
    std::uint64_t cgtod(std::uint32_t c) const { return cgstart(c) + cblkno; }
    std::uint64_t cgimin(std::uint32_t c) const { return cgstart(c) + iblkno; }
    std::uint64_t cgdmin(std::uint32_t c) const { return cgstart(c) + dblkno; }
    std::uint32_t ino_to_cg(std::uint64_t ino) const {
        return static_cast<std::uint32_t>(ino / ipg);
    }
    // The fragment holding the inode block of `ino`, and the inode's index in that block.
    std::uint64_t ino_to_fsba(std::uint64_t ino) const {
        return cgimin(ino_to_cg(ino)) + (((ino % ipg) / inopb) << fragshift);
    }
    std::uint32_t ino_to_fsbo(std::uint64_t ino) const {
        return static_cast<std::uint32_t>(ino % inopb);
    }
    std::uint64_t lblkno(std::uint64_t pos) const { return pos >> bshift; }
    std::uint64_t blkoff(std::uint64_t pos) const { return pos & (bsize - 1); }
    std::uint64_t fragroundup(std::uint64_t n) const {
        return (n + fsize - 1) & ~std::uint64_t{fsize - 1};
    }
    std::uint64_t numfrags(std::uint64_t bytes) const { return bytes >> fshift; }
    // Bytes of logical block `lbn` of a file of `file_size` bytes (a tail may be fragments).
    std::uint32_t blksize(std::uint64_t file_size, std::uint64_t lbn) const {
        if (lbn >= ndaddr || file_size >= (lbn + 1) << bshift)
            return bsize;
        return static_cast<std::uint32_t>(fragroundup(blkoff(file_size)));
    }

    // The one choke point for fragment addresses read from disk: [first, first + count) must
    // lie inside the file system. `what` names the structure for the message.
    Result<void> check_frags(std::uint64_t first, std::uint64_t count,
                             const std::string& what) const;
};

// A superblock as found: its bytes, where, and in which order.
struct FoundSuperblock {
    Superblock sb{};
    std::uint64_t offset = 0;
    Order order;
};

// Search where NetBSD does (sblock_search), matching the UFS1 or UFS2 magic in either byte
// order, skipping copies that are backups (a UFS2's, or an updated UFS1's, fs_sblockloc naming
// another place; an old UFS1 found at 65536) and, as ffs_mountfs, copies that do not validate
// (derive_geometry). When none validates, the first in its place (derive_geometry tells why it
// is refused). EINVAL when none is found (not an FFS, or not one we can find).
Result<FoundSuperblock> find_superblock(io::BlockDevice& dev);

// The superblock at byte `offset` if either magic matches there (no location rules).
std::optional<FoundSuperblock> superblock_at(io::BlockDevice& dev, std::uint64_t offset);

// Validate every field the driver uses and derive the Geometry (ffs_superblock_validate's
// checks and more). `device_bytes` bounds fs_size. EIO naming the superblock and field.
Result<Geometry> derive_geometry(const FoundSuperblock& found, std::uint64_t device_bytes);

// Recovery, read-only: when the primary superblock is unusable, the copy newfs and makefs
// keep in cylinder group 1. Where that copy is depends on the geometry the primary no longer
// gives, so this scans the first `scan_bytes` past 65536 at every 512-byte boundary for either
// magic and takes the first copy that validates and sits exactly where its own Geometry puts
// cg 1's superblock (cgsblock(1)). EIO when none is found.
Result<Geometry> find_backup_geometry(io::BlockDevice& dev, std::uint64_t scan_bytes = 64u << 20);

}  // namespace uk::ffs
