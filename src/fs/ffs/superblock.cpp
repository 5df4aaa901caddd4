// Finding and validating the FFS superblock (see superblock.hpp). Facts: NetBSD sys/ufs/ffs/fs.h,
// ffs_vfsops.c (ffs_mountfs' search loop, ffs_superblock_validate, ffs_oldfscompat_read).
#include "fs/ffs/superblock.hpp"

#include <bit>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace uk::ffs {

namespace {

bool is_ufs2_magic(std::uint32_t m) {
    return m == ufs2_magic || m == ufs2ea_magic;
}

std::uint32_t log2_of(std::uint32_t v) {
    return static_cast<std::uint32_t>(std::countr_zero(v));
}

// Each check names the field; `where` is "ffs: superblock at N".
struct Checker {
    std::string where;
    Result<void> need(bool ok, std::string_view what) const {
        if (ok)
            return {};
        return Error::corrupt(where, what);
    }
};

}  // namespace

Result<void> Geometry::check_frags(std::uint64_t first, std::uint64_t count,
                                   const std::string& what) const {
    if (first == 0 || first >= size || count > size - first)
        return Error::corrupt(what, fmt::format("fragments {}+{} are outside the file system "
                                                "({} fragments)",
                                                first, count, size));
    return {};
}

std::optional<FoundSuperblock> superblock_at(io::BlockDevice& dev, std::uint64_t offset) {
    if (dev.size() < offset || dev.size() - offset < sizeof(Superblock))
        return std::nullopt;
    FoundSuperblock f;
    auto bytes = std::as_writable_bytes(std::span(&f.sb, 1));
    if (!dev.read_at(offset, bytes))
        return std::nullopt;
    f.offset = offset;
    for (const std::endian e : {std::endian::little, std::endian::big}) {
        const Order o(e);
        const std::uint32_t m = o.u32(f.sb.fs_magic);
        if (m == ufs1_magic || is_ufs2_magic(m)) {
            f.order = o;
            return f;
        }
    }
    return std::nullopt;
}

Result<FoundSuperblock> find_superblock(io::BlockDevice& dev) {
    // ffs_mountfs' loop over sblock_try: a copy that is not in its own place, or that does not
    // validate, is passed over and the search goes on. When none validates, the first one in
    // its place is returned, for derive_geometry to say what is wrong with it.
    std::optional<FoundSuperblock> first;
    for (const std::uint64_t loc : sblock_search) {
        auto f = superblock_at(dev, loc);
        if (!f)
            continue;
        const Order& o = f->order;
        const Superblock& sb = f->sb;
        const bool ufs2 = is_ufs2_magic(o.u32(sb.fs_magic));
        const bool updated = (sb.fs_old_flags & fs_flags_updated) != 0;
        // A UFS1 that is not updated records no location: at 65536 it is a cg 0 backup of a
        // primary at 8192 (what NetBSD's search skips). Elsewhere it lives where it is found.
        if (!ufs2 && !updated && loc == sblock_ufs2)
            continue;
        // A copy that names another place as the standard one is a backup.
        if ((ufs2 || updated) && o.u64(sb.fs_sblockloc) != loc)
            continue;
        if (derive_geometry(*f, dev.size()))
            return *f;
        if (!first)
            first = *f;
    }
    if (first)
        return *first;
    return Error::not_this_fs("ffs: no superblock at 65536, 8192, 0 or 262144");
}

Result<Geometry> derive_geometry(const FoundSuperblock& found, std::uint64_t device_bytes) {
    const Superblock& sb = found.sb;
    const Order o = found.order;
    const Checker c{fmt::format("ffs: superblock at {}", found.offset)};
    Geometry g;
    g.order = o;
    g.sblock_offset = found.offset;
    const std::uint32_t magic = o.u32(sb.fs_magic);
    UKFS_TRY(c.need(magic == ufs1_magic || is_ufs2_magic(magic), "fs_magic is not FFS's"));
    g.ufs2 = is_ufs2_magic(magic);
    g.inode_size = g.ufs2 ? sizeof(Dinode2) : sizeof(Dinode1);
    g.ptr_size = g.ufs2 ? 8 : 4;

    // Sizes and their shifts and masks (ffs_superblock_validate's order).
    g.bsize = o.u32(sb.fs_bsize);
    g.fsize = o.u32(sb.fs_fsize);
    g.frag = o.u32(sb.fs_frag);
    UKFS_TRY(c.need(std::has_single_bit(g.bsize) && g.bsize >= min_bsize && g.bsize <= max_bsize,
                    fmt::format("fs_bsize {} is not a power of two from 4096 to 65536", g.bsize)));
    UKFS_TRY(c.need(g.frag == 1 || g.frag == 2 || g.frag == 4 || g.frag == 8,
                    fmt::format("fs_frag {} is not 1, 2, 4 or 8", g.frag)));
    UKFS_TRY(c.need(g.fsize == g.bsize / g.frag,
                    fmt::format("fs_fsize {} is not fs_bsize / fs_frag", g.fsize)));
    UKFS_TRY(c.need(g.fsize >= dev_bsize, fmt::format("fs_fsize {} is below 512", g.fsize)));
    g.bshift = log2_of(g.bsize);
    g.fshift = log2_of(g.fsize);
    g.fragshift = log2_of(g.frag);
    UKFS_TRY(c.need(o.u32(sb.fs_bshift) == g.bshift && o.u32(sb.fs_fshift) == g.fshift &&
                        o.u32(sb.fs_fragshift) == g.fragshift,
                    "fs_bshift, fs_fshift or fs_fragshift does not match the sizes"));
    UKFS_TRY(c.need(o.u32(sb.fs_bmask) == ~(g.bsize - 1) && o.u32(sb.fs_fmask) == ~(g.fsize - 1),
                    "fs_bmask or fs_fmask does not match the sizes"));
    UKFS_TRY(c.need(o.u32(sb.fs_fsbtodb) == log2_of(g.fsize / dev_bsize),
                    "fs_fsbtodb does not match fs_fsize"));
    const std::uint32_t sbsize = o.u32(sb.fs_sbsize);
    UKFS_TRY(c.need(
        sbsize >= sizeof(Superblock) && sbsize <= sblock_size,
        fmt::format("fs_sbsize {} is not from {} to {}", sbsize, sizeof(Superblock), sblock_size)));
    g.inopb = g.bsize / g.inode_size;
    g.nindir = g.bsize / g.ptr_size;
    UKFS_TRY(c.need(o.u32(sb.fs_inopb) == g.inopb,
                    fmt::format("fs_inopb {} is not {}", o.u32(sb.fs_inopb), g.inopb)));
    UKFS_TRY(c.need(o.u32(sb.fs_nindir) == g.nindir,
                    fmt::format("fs_nindir {} is not {}", o.u32(sb.fs_nindir), g.nindir)));

    // Groups.
    g.ncg = o.u32(sb.fs_ncg);
    g.ipg = o.u32(sb.fs_ipg);
    g.fpg = o.u32(sb.fs_fpg);
    UKFS_TRY(c.need(g.ncg > 0, "fs_ncg is 0"));
    UKFS_TRY(c.need(g.ipg > 0 && g.ipg % g.inopb == 0,
                    fmt::format("fs_ipg {} is not a positive multiple of fs_inopb", g.ipg)));
    UKFS_TRY(c.need(g.fpg > 0 && g.fpg % g.frag == 0,
                    fmt::format("fs_fpg {} is not a positive multiple of fs_frag", g.fpg)));
    UKFS_TRY(c.need(g.inodes() <= 0xFFFFFFFFu, "fs_ncg * fs_ipg is over 2^32 inodes"));
    g.sblkno = o.u32(sb.fs_sblkno);
    g.cblkno = o.u32(sb.fs_cblkno);
    g.iblkno = o.u32(sb.fs_iblkno);
    g.dblkno = o.u32(sb.fs_dblkno);
    const std::uint64_t inode_frags = std::uint64_t{g.ipg / g.inopb} << g.fragshift;
    UKFS_TRY(c.need(g.sblkno < g.cblkno && g.cblkno < g.iblkno && g.iblkno < g.dblkno &&
                        g.dblkno <= g.fpg,
                    "fs_sblkno, fs_cblkno, fs_iblkno and fs_dblkno are not in order inside a "
                    "group"));
    UKFS_TRY(c.need(g.iblkno + inode_frags <= g.dblkno,
                    fmt::format("fs_ipg {} inodes do not fit between fs_iblkno {} and fs_dblkno {}",
                                g.ipg, g.iblkno, g.dblkno)));
    g.cgsize = o.u32(sb.fs_cgsize);
    UKFS_TRY(c.need(
        g.cgsize >= sizeof(CylinderGroup) && g.cgsize <= g.bsize &&
            g.cblkno + ((std::uint64_t{g.cgsize} + g.fsize - 1) >> g.fshift) <= g.iblkno,
        fmt::format("fs_cgsize {} does not fit between the cg header and the inodes", g.cgsize)));

    // Totals: UFS1 images not yet updated keep them in the old fields (ffs_oldfscompat_read).
    const bool updated = g.ufs2 || (sb.fs_old_flags & fs_flags_updated) != 0;
    if (updated) {
        g.size = o.u64(sb.fs_size);
        g.dsize = o.u64(sb.fs_dsize);
        g.csaddr = o.u64(sb.fs_csaddr);
        g.flags = o.u32(sb.fs_flags);
        g.cs_ndir = o.u64(sb.fs_cstotal.cs_ndir);
        g.cs_nbfree = o.u64(sb.fs_cstotal.cs_nbfree);
        g.cs_nifree = o.u64(sb.fs_cstotal.cs_nifree);
        g.cs_nffree = o.u64(sb.fs_cstotal.cs_nffree);
    } else {
        g.size = o.u32(sb.fs_old_size);
        g.dsize = o.u32(sb.fs_old_dsize);
        g.csaddr = o.u32(sb.fs_old_csaddr);
        g.flags = sb.fs_old_flags & ~fs_flags_updated;
        g.cs_ndir = o.u32(sb.fs_old_cstotal.cs_ndir);
        g.cs_nbfree = o.u32(sb.fs_old_cstotal.cs_nbfree);
        g.cs_nifree = o.u32(sb.fs_old_cstotal.cs_nifree);
        g.cs_nffree = o.u32(sb.fs_old_cstotal.cs_nffree);
    }
    g.clean = sb.fs_clean;
    g.minfree = std::min<std::uint32_t>(o.u32(sb.fs_minfree), 99);
    // Not checked by NetBSD; a value out of range only changes where big files go.
    g.maxbpg = o.u32(sb.fs_maxbpg);
    if (g.maxbpg == 0 || g.maxbpg > 1u << 24)
        g.maxbpg = g.nindir;
    UKFS_TRY(c.need(g.size > 0 && g.size <= device_bytes >> g.fshift,
                    fmt::format("fs_size {} fragments is not inside the device ({} bytes)", g.size,
                                device_bytes)));
    UKFS_TRY(c.need(g.ufs2 || g.size <= 0x7FFFFFFFu, "fs_size is too big for UFS1's pointers"));
    UKFS_TRY(c.need(g.size <= std::uint64_t{g.ncg} * g.fpg && g.cgbase(g.ncg - 1) < g.size,
                    fmt::format("fs_ncg {} groups of fs_fpg {} fragments do not match fs_size {}",
                                g.ncg, g.fpg, g.size)));
    UKFS_TRY(c.need(g.dsize <= g.size, "fs_dsize is more than fs_size"));
    if (!g.ufs2) {
        g.old_cgoffset = o.u32(sb.fs_old_cgoffset);
        g.old_cgmask = o.u32(sb.fs_old_cgmask);
        if (g.old_cgoffset != 0) {
            // Each group's rotated start must leave its metadata inside the group.
            UKFS_TRY(c.need(g.old_cgoffset < g.fpg, "fs_old_cgoffset is beyond a group"));
            for (std::uint32_t cg = 0; cg < g.ncg; ++cg)
                UKFS_TRY(c.need(g.cgdmin(cg) <= g.cgbase(cg) + g.fpg,
                                "fs_old_cgoffset moves a group's metadata out of it"));
        }
    }
    // Every group's inodes are addressable (the last group may be short of data).
    UKFS_TRY(c.need(g.cgimin(g.ncg - 1) + inode_frags <= g.size,
                    "the last group's inodes are past fs_size"));
    g.cssize = o.u32(sb.fs_cssize);
    const std::uint64_t cs_frags = (std::uint64_t{g.cssize} + g.fsize - 1) >> g.fshift;
    UKFS_TRY(c.need(g.cssize >= std::uint64_t{g.ncg} * sizeof(Csum),
                    fmt::format("fs_cssize {} is too small for {} groups", g.cssize, g.ncg)));
    UKFS_TRY(c.need(
        g.csaddr > 0 && g.csaddr < g.size && cs_frags <= g.size - g.csaddr,
        fmt::format("fs_csaddr {} + fs_cssize {} is outside the file system", g.csaddr, g.cssize)));

    // Inode format, symlinks and the largest file.
    const auto inodefmt = static_cast<std::int32_t>(o.u32(sb.fs_old_inodefmt));
    UKFS_TRY(
        c.need(inodefmt <= fs_44inodefmt, fmt::format("fs_old_inodefmt {} is unknown", inodefmt)));
    g.old_dirfmt = inodefmt < fs_44inodefmt;
    UKFS_TRY(c.need(!(g.ufs2 && g.old_dirfmt), "a UFS2 superblock has the 4.2BSD inode format"));
    g.maxsymlinklen = o.u32(sb.fs_maxsymlinklen);
    const std::uint32_t in_inode = (ndaddr + niaddr) * g.ptr_size;
    UKFS_TRY(c.need(g.maxsymlinklen == 0 || (g.maxsymlinklen == in_inode && !g.old_dirfmt),
                    fmt::format("fs_maxsymlinklen {} is not 0 or {}", g.maxsymlinklen, in_inode)));
    std::uint64_t blocks = ndaddr;
    std::uint64_t span = 1;
    for (std::uint32_t level = 0; level < niaddr; ++level) {
        span *= g.nindir;
        blocks += span;
    }
    g.maxfilesize = std::min<std::uint64_t>(blocks << g.bshift, std::uint64_t{1} << 62) - 1;
    if (g.old_dirfmt)
        g.maxfilesize = std::min<std::uint64_t>(g.maxfilesize, (std::uint64_t{1} << 39) - 1);
    const std::uint64_t sb_max = o.u64(sb.fs_maxfilesize);
    if (sb_max != 0 && !g.old_dirfmt)
        g.maxfilesize = std::min(g.maxfilesize, sb_max);
    return g;
}

Result<Geometry> find_backup_geometry(io::BlockDevice& dev, std::uint64_t scan_bytes) {
    // Candidates: every 512-byte-aligned offset past the standard places whose magic field
    // holds an FFS magic in either order, checked in chunks.
    constexpr std::size_t chunk = 1 << 20;
    std::vector<std::byte> buf(chunk + sizeof(Superblock));
    const std::uint64_t start = sblock_ufs2 + dev_bsize;
    const std::uint64_t end = std::min(dev.size(), start + scan_bytes);
    for (std::uint64_t base = start; base < end; base += chunk) {
        const std::uint64_t n = std::min<std::uint64_t>(buf.size(), dev.size() - base);
        if (n < sizeof(Superblock))
            break;
        UKFS_TRY(dev.read_at(base, std::span(buf).first(static_cast<std::size_t>(n))));
        for (std::uint64_t off = 0; off < chunk && off + sizeof(Superblock) <= n;
             off += dev_bsize) {
            Raw32 magic;
            std::memcpy(&magic, buf.data() + off + offsetof(Superblock, fs_magic), 4);
            bool hit = false;
            for (const std::endian e : {std::endian::little, std::endian::big}) {
                const std::uint32_t m = Order(e).u32(magic);
                hit = hit || m == ufs1_magic || is_ufs2_magic(m);
            }
            if (!hit)
                continue;
            auto f = superblock_at(dev, base + off);
            if (!f)
                continue;
            auto g = derive_geometry(*f, dev.size());
            if (g && g->ncg > 1 && g->cgsblock(1) << g->fshift == base + off)
                return g;
        }
    }
    return Error::corrupt("ffs: backup superblock", "no valid copy found in cylinder group 1");
}

}  // namespace uk::ffs
