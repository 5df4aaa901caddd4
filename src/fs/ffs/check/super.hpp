// The checker's view of the superblock: found where NetBSD looks for it, in either byte order,
// validated field against field so every later computation stays inside the device. Kept in
// one place so it can merge with the driver's Geometry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/endian.hpp"
#include "base/result.hpp"
#include "fs/ffs/format.hpp"
#include "io/block_device.hpp"

namespace uk::ffs::check {

struct Geometry {
    Order order;
    bool ufs2 = false;
    bool flags_updated = false;  // UFS1: FS_FLAGS_UPDATED (the 64-bit fields are in use)
    std::uint64_t sblock_offset = 0;
    Superblock sb{};  // the primary, raw

    std::uint32_t bsize = 0, fsize = 0, frag = 0, sbsize = 0;
    std::uint32_t ncg = 0, ipg = 0, fpg = 0, inopb = 0, nindir = 0;
    std::uint32_t sblkno = 0, cblkno = 0, iblkno = 0, dblkno = 0;
    std::uint32_t cgsize = 0, cssize = 0, contigsumsize = 0, maxsymlinklen = 0;
    std::uint32_t old_cgoffset = 0, old_cgmask = 0, old_cpg = 0, old_nrpos = 0;
    std::uint32_t old_spc = 0, old_nsect = 0, old_npsect = 0, old_interleave = 0;
    std::uint32_t old_trackskew = 0, old_nspf = 0, old_postblformat = 0, fsbtodb = 0;
    std::int32_t inodefmt = fs_44inodefmt;
    std::uint64_t size = 0, dsize = 0, csaddr = 0, maxfilesize = 0;
    std::uint8_t clean = 0;
    std::string last_mounted;
    CsumTotal cstotal{};  // the 64-bit totals (UFS1 without FS_FLAGS_UPDATED: the old ones)

    std::uint32_t inode_size() const { return ufs2 ? 256 : 128; }
    std::uint32_t ptr_size() const { return ufs2 ? 8 : 4; }
    std::uint64_t maxino() const { return std::uint64_t{ncg} * ipg; }
    bool newinofmt() const { return ufs2 || inodefmt >= fs_44inodefmt; }

    std::uint64_t cgbase(std::uint64_t c) const { return std::uint64_t{fpg} * c; }
    std::uint64_t cgstart(std::uint64_t c) const {
        return ufs2 ? cgbase(c) : cgbase(c) + std::uint64_t{old_cgoffset} * (c & ~old_cgmask);
    }
    std::uint64_t cgsblock(std::uint64_t c) const { return cgstart(c) + sblkno; }
    std::uint64_t cgtod(std::uint64_t c) const { return cgstart(c) + cblkno; }
    std::uint64_t cgimin(std::uint64_t c) const { return cgstart(c) + iblkno; }
    std::uint64_t cgdmin(std::uint64_t c) const { return cgstart(c) + dblkno; }
    std::uint64_t dtog(std::uint64_t frag_no) const { return frag_no / fpg; }
    std::uint64_t bytes(std::uint64_t frag_no) const { return frag_no * fsize; }
    std::uint64_t fragroundup(std::uint64_t n) const { return (n + fsize - 1) / fsize * fsize; }
    std::uint64_t numfrags(std::uint64_t n) const { return n / fsize; }
    // Fragment address of the inode block holding `ino`, and the inode's byte offset in it.
    std::uint64_t ino_block(std::uint64_t ino) const {
        return cgimin(ino / ipg) + (ino % ipg) / inopb * frag;
    }
    std::uint32_t ino_offset(std::uint64_t ino) const {
        return static_cast<std::uint32_t>(ino % inopb) * inode_size();
    }
};

// The superblock search and validation. No usable superblock: nullopt, and `problem` says why
// in fsck_ffs' words ("MAGIC NUMBER WRONG"). Only a device read error is an error.
Result<std::optional<Geometry>> find_superblock(io::BlockDevice& dev, std::string& problem);

// fsck_ffs' cmpsblks(): the fields an alternate superblock must share with the primary.
bool alternate_matches(const Geometry& g, const Superblock& alt);

// The setup checks fsck_ffs makes of a superblock it accepted ("IMPOSSIBLE MINFREE=...").
std::vector<std::string> superblock_warnings(const Geometry& g);

}  // namespace uk::ffs::check
