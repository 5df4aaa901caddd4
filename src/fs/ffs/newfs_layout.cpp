// newfs' choice of layout (see newfs.hpp) and the parsing of fsu mkfs -o words. Facts: NetBSD
// sbin/newfs/newfs.8 (defaults), sbin/newfs/mkfs.c and usr.sbin/makefs/ffs/mkfs.c (how the
// cylinder-group size and inode count are found), sys/ufs/ffs/fs.h (CGSIZE, MAXBLKPG).
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "fs/ffs/format.hpp"
#include "fs/ffs/newfs.hpp"

namespace uk::ffs {

namespace {

constexpr std::uint64_t howmany(std::uint64_t x, std::uint64_t y) {
    return (x + y - 1) / y;
}
constexpr std::uint64_t roundup(std::uint64_t x, std::uint64_t y) {
    return howmany(x, y) * y;
}

Error invalid(const std::string& what) {
    return Error::sys(EINVAL, "ffs mkfs: " + what);
}

// sizeof(struct cg) with its one-byte cg_space, padded to its 8-byte alignment, as CGSIZE
// counts it.
constexpr std::uint64_t cg_struct_size = 176;
constexpr std::uint32_t maxphys = 65536;  // MAXPHYS: newfs' default maxcontig is MAXPHYS/bsize

// fs.h's CGSIZE for a candidate ipg and fpg.
std::uint64_t cgsize_for(const NewfsLayout& l, std::uint64_t ipg, std::uint64_t fpg) {
    std::uint64_t n = cg_struct_size + sizeof(std::int32_t) + l.old_cpg * sizeof(std::int32_t) +
                      l.old_cpg * sizeof(std::uint16_t) + howmany(ipg, 8) + howmany(fpg, 8);
    if (l.contigsumsize > 0)
        n += l.contigsumsize * sizeof(std::int32_t) + howmany(fpg >> l.fragshift, 8);
    return n;
}

std::uint32_t log2u(std::uint32_t v) {
    return static_cast<std::uint32_t>(std::countr_zero(v));
}

}  // namespace

std::uint32_t NewfsLayout::cg_ndblk(std::uint32_t c) const {
    const std::uint64_t base = cgbase(c);
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(size - base, fpg));
}

Result<NewfsLayout> newfs_layout(const NewfsOptions& o, std::uint64_t bytes) {
    NewfsLayout l;
    if (o.version != 1 && o.version != 2)
        return invalid(fmt::format("version={}: expected 1 or 2", o.version));
    l.ufs2 = o.version == 2;
    if (o.size != 0) {
        if (o.size > bytes)
            return invalid(
                fmt::format("size {} is larger than the device ({} bytes)", o.size, bytes));
        bytes = o.size;
    }
    // Defaults by size as newfs.8 gives them.
    std::uint32_t bsize = o.bsize, fsize = o.fsize;
    if (bsize == 0 && fsize == 0) {
        const std::uint64_t mib = bytes >> 20;
        bsize = mib < 20 ? 4096 : mib < 1024 ? 8192 : 16384;
    }
    if (bsize == 0)
        bsize = std::clamp<std::uint32_t>(fsize * 8, min_bsize, max_bsize);
    if (fsize == 0)
        fsize = std::max<std::uint32_t>(bsize / max_frag, dev_bsize);
    if (!std::has_single_bit(bsize) || bsize < min_bsize || bsize > max_bsize)
        return invalid(fmt::format("bsize={}: expected a power of two from {} to {}", bsize,
                                   min_bsize, max_bsize));
    if (!std::has_single_bit(fsize) || fsize < bsize / max_frag || fsize > bsize ||
        fsize < dev_bsize)
        return invalid(fmt::format("fsize={}: expected a power of two from {} to {} (bsize/8 "
                                   "to bsize)",
                                   fsize, std::max(bsize / max_frag, dev_bsize), bsize));
    if (o.minfree > 99)
        return invalid(fmt::format("minfree={}: expected 0 to 99", o.minfree));
    std::uint64_t density = o.density != 0 ? o.density : std::uint64_t{4} * fsize;
    if (density < dev_bsize || density > std::numeric_limits<std::int32_t>::max())
        return invalid(fmt::format("density={}: expected {} to {}", density, dev_bsize,
                                   std::numeric_limits<std::int32_t>::max()));

    l.bsize = bsize;
    l.fsize = fsize;
    l.frag = bsize / fsize;
    l.bshift = log2u(bsize);
    l.fshift = log2u(fsize);
    l.fragshift = log2u(l.frag);
    l.fsbtodb = log2u(fsize / dev_bsize);
    l.size = bytes / fsize;
    if (!l.ufs2 && l.size > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
        return invalid(fmt::format("{} bytes is too large for UFS1 with fsize={}", bytes, fsize));
    if (l.size >> 40 != 0)
        return invalid(fmt::format("{} bytes is too large", bytes));

    l.maxbsize = bsize;
    l.maxcontig = std::max<std::uint32_t>(1, maxphys / bsize);
    l.contigsumsize = l.maxcontig > 1 ? std::min(l.maxcontig, fs_maxcontig) : 0;
    l.maxbpg = bsize / 4;  // MAXBLKPG: bsize / sizeof(int32_t)
    l.minfree = o.minfree;
    l.optim = o.optim >= 0 ? static_cast<std::uint32_t>(o.optim) : (o.minfree >= 5 ? 0 : 1);
    l.inode_size = l.ufs2 ? sizeof(Dinode2) : sizeof(Dinode1);
    l.inopb = bsize / l.inode_size;
    l.nindir = bsize / (l.ufs2 ? 8 : 4);
    l.maxsymlinklen = (ndaddr + niaddr) * (l.ufs2 ? 8 : 4);
    l.old_cpg = l.ufs2 ? 0 : 1;
    l.sblockloc = l.ufs2 ? sblock_ufs2 : sblock_ufs1;
    l.sblkno =
        static_cast<std::uint32_t>(roundup(howmany(l.sblockloc + sblock_size, fsize), l.frag));
    l.cblkno = l.sblkno + static_cast<std::uint32_t>(roundup(howmany(sblock_size, fsize), l.frag));
    l.iblkno = l.cblkno + l.frag;
    l.maxfilesize = std::uint64_t{bsize} * ndaddr - 1;
    std::uint64_t sizepb = bsize;
    for (std::uint32_t i = 0; i < niaddr; ++i) {
        sizepb *= l.nindir;
        l.maxfilesize += sizepb;
    }
    if (l.size < l.iblkno + l.frag)
        return invalid(fmt::format("{} bytes is too small for a file system", bytes));

    // The smallest cylinder group that meets the density; lower the density until its map fits
    // in a block.
    const std::uint64_t inopf = l.inopf();
    std::uint64_t fragsperinode = 0, fpg = 0, ipg = 0;
    for (;;) {
        fragsperinode = std::max<std::uint64_t>(density >> l.fshift, 1);
        const std::uint64_t minfpg = std::min<std::uint64_t>(fragsperinode * l.inopb, l.size);
        ipg = l.inopb;
        for (int pass = 0; pass < 2; ++pass) {
            fpg = std::max(roundup(l.iblkno + ipg / inopf, l.frag), minfpg);
            ipg = roundup(howmany(fpg, fragsperinode), l.inopb);
        }
        if (cgsize_for(l, ipg, fpg) < bsize)
            break;
        if (density <= fsize)
            return invalid(
                fmt::format("no cylinder group fits bsize={} and fsize={}", bsize, fsize));
        density -= fsize;
    }
    l.density = static_cast<std::uint32_t>(density);
    // Grow the group while its map still fits a block and one group still fits the size.
    const std::uint64_t maxblkspercg = l.size - 1;
    for (; fpg < maxblkspercg; fpg += l.frag) {
        ipg = roundup(howmany(fpg, fragsperinode), l.inopb);
        if (l.size / fpg < 1)
            break;
        const std::uint64_t cs = cgsize_for(l, ipg, fpg);
        if (cs < bsize)
            continue;
        if (cs == bsize)
            break;
        fpg -= l.frag;
        ipg = roundup(howmany(fpg, fragsperinode), l.inopb);
        break;
    }
    // Shrink it until the last group can hold its own header and inodes.
    for (;;) {
        const std::uint64_t lastminfpg = roundup(l.iblkno + ipg / inopf, l.frag);
        if (l.size < lastminfpg)
            return invalid(fmt::format("{} bytes is too small: at least {} are needed", bytes,
                                       lastminfpg * fsize));
        if (l.size % fpg >= lastminfpg || l.size % fpg == 0)
            break;
        if (fpg <= lastminfpg)
            return invalid(fmt::format("no cylinder-group size fits {} bytes", bytes));
        fpg -= l.frag;
        ipg = roundup(howmany(fpg, fragsperinode), l.inopb);
    }
    l.fpg = static_cast<std::uint32_t>(fpg);
    l.ipg = static_cast<std::uint32_t>(ipg);
    l.ncg = static_cast<std::uint32_t>(howmany(l.size, fpg));
    if (std::uint64_t{l.ncg} * l.ipg > std::numeric_limits<std::uint32_t>::max())
        return invalid("too many inodes: raise density");
    l.cgsize = static_cast<std::uint32_t>(roundup(cgsize_for(l, ipg, fpg), fsize));
    l.dblkno = l.iblkno + static_cast<std::uint32_t>(ipg / inopf);
    l.csaddr = l.dblkno;  // cgdmin(0)
    l.cssize = static_cast<std::uint32_t>(roundup(std::uint64_t{l.ncg} * sizeof(Csum), fsize));
    l.sbsize = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(roundup(sizeof(Superblock), fsize), sblock_size));
    const std::uint64_t csfrags = howmany(l.cssize, fsize);
    l.dsize = l.size - l.sblkno - std::uint64_t{l.ncg} * (l.dblkno - l.sblkno) - csfrags;
    // Cylinder group 0 holds the summary area and the root directory's fragment.
    if (l.dblkno + csfrags + 1 > l.cg_ndblk(0))
        return invalid(fmt::format("{} bytes is too small for the summary area and the root "
                                   "directory",
                                   bytes));
    return l;
}

Result<NewfsOptions> parse_newfs_params(const vfs::FormatParams& params) {
    NewfsOptions o;
    for (const auto& p : params) {
        const std::string& k = p.first;
        if (k == "version") {
            o.version = static_cast<int>(UKFS_TRY(vfs::param_number(p, 1, 2)));
        } else if (k == "endian") {
            if (p.second == "le" || p.second == "little")
                o.order = std::endian::little;
            else if (p.second == "be" || p.second == "big")
                o.order = std::endian::big;
            else
                return invalid(fmt::format("endian={}: expected le or be", p.second));
        } else if (k == "bsize") {
            o.bsize = static_cast<std::uint32_t>(UKFS_TRY(vfs::param_number(p, 1, max_bsize)));
        } else if (k == "fsize") {
            o.fsize = static_cast<std::uint32_t>(UKFS_TRY(vfs::param_number(p, 1, max_bsize)));
        } else if (k == "density") {
            o.density = static_cast<std::uint32_t>(UKFS_TRY(
                vfs::param_number(p, dev_bsize, std::numeric_limits<std::int32_t>::max())));
        } else if (k == "minfree") {
            o.minfree = static_cast<std::uint32_t>(UKFS_TRY(vfs::param_number(p, 0, 99)));
        } else if (k == "optimization") {
            if (p.second == "time")
                o.optim = 0;
            else if (p.second == "space")
                o.optim = 1;
            else
                return invalid(fmt::format("optimization={}: expected time or space", p.second));
        } else if (k == "label") {
            if (p.second.size() >= maxvollen)
                return invalid(
                    fmt::format("label \"{}\" is longer than {} bytes", p.second, maxvollen - 1));
            o.label = p.second;
        } else if (k == "time") {
            o.time = UKFS_TRY(vfs::param_number(p, 0, std::numeric_limits<std::int64_t>::max()));
        } else if (k == "seed") {
            o.seed = UKFS_TRY(vfs::param_number(p, 0, std::numeric_limits<std::uint64_t>::max()));
        } else {
            return vfs::unknown_param("ffs", p);
        }
    }
    return o;
}

Result<void> newfs_params(io::BlockDevice& dev, const vfs::FormatParams& params) {
    const NewfsOptions o = UKFS_TRY(parse_newfs_params(params));
    return newfs(dev, o);
}

}  // namespace uk::ffs
