// Making an FFS (UFS1 or UFS2, either byte order): uk::ffs::newfs. The layout is NetBSD
// newfs's (sbin/newfs/mkfs.c, shared by makefs' ffs/mkfs.c): the same cylinder-group size, inode
// count and offsets for the same size, block and fragment size and density, so an image of ours
// and one makefs made with the same parameters agree field by field. The superblock goes where
// newfs puts it (65536 for UFS2, 8192 for UFS1; makefs puts UFS2's at 8192). The new file system
// holds only the root directory (NetBSD's newfs makes no lost+found).
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "io/block_device.hpp"
#include "vfs/registry.hpp"

namespace uk::ffs {

struct NewfsOptions {
    int version = 2;  // 1: UFS1, 2: UFS2
    std::endian order = std::endian::little;
    std::uint32_t bsize = 0;            // 0: by size as newfs (4096 below 20 MiB, 8192 below
                                        // 1 GiB, 16384 above)
    std::uint32_t fsize = 0;            // 0: bsize / 8
    std::uint32_t density = 0;          // bytes per inode; 0: 4 * fsize
    std::uint32_t minfree = 5;          // percent
    int optim = -1;                     // 0 time, 1 space; -1: time if minfree >= 5
    std::string label;                  // fs_volname, up to 31 bytes
    std::optional<std::uint64_t> time;  // all times; else SOURCE_DATE_EPOCH, else now
    std::optional<std::uint64_t> seed;  // fs_id[1] and di_gen; else random
    std::uint64_t size = 0;             // bytes to use; 0: the whole device
};

// The superblock fields the layout decides, in plain numbers (exposed for tests).
struct NewfsLayout {
    bool ufs2 = true;
    std::uint64_t sblockloc = 0;
    std::uint32_t bsize = 0, fsize = 0, frag = 0, bshift = 0, fshift = 0, fragshift = 0;
    std::uint32_t fsbtodb = 0;
    std::uint64_t size = 0;  // fragments
    std::uint64_t dsize = 0;
    std::uint32_t sblkno = 0, cblkno = 0, iblkno = 0, dblkno = 0;
    std::uint32_t fpg = 0, ipg = 0, ncg = 0;
    std::uint32_t inopb = 0, nindir = 0, inode_size = 0;
    std::uint32_t cgsize = 0, cssize = 0, sbsize = 0;
    std::uint32_t maxbsize = 0, maxcontig = 0, contigsumsize = 0, maxbpg = 0;
    std::uint32_t minfree = 0, optim = 0, density = 0, old_cpg = 0;
    std::uint32_t maxsymlinklen = 0;
    std::uint64_t maxfilesize = 0;
    std::uint64_t csaddr = 0;

    std::uint32_t inopf() const { return inopb / frag; }
    std::uint64_t cgbase(std::uint32_t c) const { return std::uint64_t{fpg} * c; }
    // Fragments of cylinder group c (the last one may be short).
    std::uint32_t cg_ndblk(std::uint32_t c) const;
};

// Decide the layout for `bytes` of device (EINVAL naming the option when it cannot be made).
Result<NewfsLayout> newfs_layout(const NewfsOptions& options, std::uint64_t bytes);

// Write a new, empty file system on `dev`. Nothing is written past the file system's end,
// which is never past the device's.
Result<void> newfs(io::BlockDevice& dev, const NewfsOptions& options);

// The registry's mkfs hook: fsu mkfs -t ffs -o version=1,endian=be,bsize=...,...
Result<void> newfs_params(io::BlockDevice& dev, const vfs::FormatParams& params);
// Parse the -o words into options (EINVAL naming an unknown key or a bad value).
Result<NewfsOptions> parse_newfs_params(const vfs::FormatParams& params);

}  // namespace uk::ffs
