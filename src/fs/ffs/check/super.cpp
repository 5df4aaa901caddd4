// Superblock search and validation for the checker. Facts: NetBSD sys/ufs/ffs/fs.h (SBLOCKSEARCH,
// the cg address macros), fsck_ffs' setup.c (readsb, cmpsblks and the setup warnings), newfs'
// derivations (masks, shifts, maxfilesize). Every field later used as a count, size or address
// is checked here against the others and against the device.
#include "fs/ffs/check/super.hpp"

#include <bit>
#include <cstring>

#include <fmt/format.h>

namespace uk::ffs::check {

namespace {

constexpr std::uint32_t postbl_dynamic = 1;  // FS_DYNAMICPOSTBLFMT
constexpr std::uint32_t opt_time = 0, opt_space = 1;

bool pow2(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

// The superblock at `offset` in byte order `order`, if its magic matches one fsck_ffs' readsb()
// takes there: a UFS1 superblock at 65536 is an alternate (cg 0's copy with 64 KiB blocks);
// a UFS2 superblock, or a UFS1 one with FS_FLAGS_UPDATED, only where its fs_sblockloc says.
bool magic_fits(const Superblock& sb, const Order& order, std::uint64_t offset, bool& ufs2) {
    const std::uint32_t magic = order.u32(sb.fs_magic);
    if (magic == ufs1_magic) {
        if (offset == sblock_ufs2)
            return false;
        if ((sb.fs_old_flags & fs_flags_updated) != 0 && order.u64(sb.fs_sblockloc) != offset)
            return false;
        ufs2 = false;
        return true;
    }
    if (magic == ufs2_magic || magic == ufs2ea_magic) {
        if (order.u64(sb.fs_sblockloc) != offset)
            return false;
        ufs2 = true;
        return true;
    }
    return false;
}

// fsck_ffs' own words for a superblock it refuses, after its "BAD SUPER BLOCK: " prefix.
std::string validate(Geometry& g, std::uint64_t dev_size) {
    const Superblock& sb = g.sb;
    const Order& o = g.order;
    g.ncg = o.u32(sb.fs_ncg);
    g.bsize = o.u32(sb.fs_bsize);
    g.fsize = o.u32(sb.fs_fsize);
    g.frag = o.u32(sb.fs_frag);
    g.sbsize = o.u32(sb.fs_sbsize);
    g.ipg = o.u32(sb.fs_ipg);
    g.fpg = o.u32(sb.fs_fpg);
    g.inopb = o.u32(sb.fs_inopb);
    g.nindir = o.u32(sb.fs_nindir);
    g.sblkno = o.u32(sb.fs_sblkno);
    g.cblkno = o.u32(sb.fs_cblkno);
    g.iblkno = o.u32(sb.fs_iblkno);
    g.dblkno = o.u32(sb.fs_dblkno);
    g.cgsize = o.u32(sb.fs_cgsize);
    g.cssize = o.u32(sb.fs_cssize);
    g.contigsumsize = o.u32(sb.fs_contigsumsize);
    g.maxsymlinklen = o.u32(sb.fs_maxsymlinklen);
    g.old_cgoffset = o.u32(sb.fs_old_cgoffset);
    g.old_cgmask = o.u32(sb.fs_old_cgmask);
    g.old_cpg = o.u32(sb.fs_old_cpg);
    g.old_nrpos = o.u32(sb.fs_old_nrpos);
    g.old_spc = o.u32(sb.fs_old_spc);
    g.old_nsect = o.u32(sb.fs_old_nsect);
    g.old_npsect = o.u32(sb.fs_old_npsect);
    g.old_interleave = o.u32(sb.fs_old_interleave);
    g.old_trackskew = o.u32(sb.fs_old_trackskew);
    g.old_nspf = o.u32(sb.fs_old_nspf);
    g.old_postblformat = o.u32(sb.fs_old_postblformat);
    g.fsbtodb = o.u32(sb.fs_fsbtodb);
    g.inodefmt = static_cast<std::int32_t>(o.u32(sb.fs_old_inodefmt));
    g.maxfilesize = o.u64(sb.fs_maxfilesize);
    g.clean = sb.fs_clean;
    g.flags_updated = (sb.fs_old_flags & fs_flags_updated) != 0;
    // UFS1 file systems that predate the 64-bit fields keep size, addresses and totals in the
    // old 32-bit ones (NetBSD's sb_oldfscompat_read: fs_maxbsize != fs_bsize).
    const bool old_fields = !g.ufs2 && o.u32(sb.fs_maxbsize) != g.bsize;
    if (old_fields) {
        g.size = o.u32(sb.fs_old_size);
        g.dsize = o.u32(sb.fs_old_dsize);
        g.csaddr = o.u32(sb.fs_old_csaddr);
        o.set(g.cstotal.cs_ndir, std::uint64_t{o.u32(sb.fs_old_cstotal.cs_ndir)});
        o.set(g.cstotal.cs_nbfree, std::uint64_t{o.u32(sb.fs_old_cstotal.cs_nbfree)});
        o.set(g.cstotal.cs_nifree, std::uint64_t{o.u32(sb.fs_old_cstotal.cs_nifree)});
        o.set(g.cstotal.cs_nffree, std::uint64_t{o.u32(sb.fs_old_cstotal.cs_nffree)});
    } else {
        g.size = o.u64(sb.fs_size);
        g.dsize = o.u64(sb.fs_dsize);
        g.csaddr = o.u64(sb.fs_csaddr);
        g.cstotal = sb.fs_cstotal;
    }
    std::size_t mnt = 0;
    while (mnt < maxmntlen && sb.fs_fsmnt[mnt] != 0)
        ++mnt;
    g.last_mounted.assign(reinterpret_cast<const char*>(sb.fs_fsmnt), mnt);

    // fsck_ffs' own refusals first, in its words.
    if (g.ncg < 1)
        return "NCG OUT OF RANGE";
    if (!g.ufs2 && g.old_cpg < 1)
        return "CPG OUT OF RANGE";
    if (g.sbsize > sblock_size || g.sbsize < sizeof(Superblock))
        return "SIZE PREPOSTEROUSLY LARGE";
    // What every later computation relies on.
    if (!pow2(g.bsize) || g.bsize < min_bsize || g.bsize > max_bsize)
        return fmt::format("BLOCK SIZE {} OUT OF RANGE", g.bsize);
    if (!pow2(g.frag) || g.frag > max_frag || !pow2(g.fsize) || g.fsize < dev_bsize ||
        std::uint64_t{g.fsize} * g.frag != g.bsize)
        return fmt::format("FRAGMENT SIZE {} AND COUNT {} DISAGREE WITH BLOCK SIZE", g.fsize,
                           g.frag);
    if (g.inopb != g.bsize / g.inode_size() || g.nindir != g.bsize / g.ptr_size())
        return "INODES OR POINTERS PER BLOCK WRONG";
    if (g.fpg == 0 || g.fpg % g.frag != 0 || g.ipg == 0 || g.ipg % g.inopb != 0)
        return "CYLINDER GROUP SIZES WRONG";
    if (g.size == 0 || g.size > std::uint64_t{g.ncg} * g.fpg ||
        g.size <= std::uint64_t{g.ncg - 1} * g.fpg)
        return "NCG DISAGREES WITH FILE SYSTEM SIZE";
    if (g.size > dev_size / g.fsize)
        return fmt::format("FILE SYSTEM SIZE {} LARGER THAN DEVICE", g.size);
    if (!g.ufs2 && (g.old_cgmask == 0 || g.old_cgoffset > g.fpg))
        return "CGMASK OR CGOFFSET WRONG";
    const std::uint64_t inode_frags = std::uint64_t{g.ipg} / g.inopb * g.frag;
    const std::uint64_t cg_offset_max =
        g.ufs2 ? 0 : std::uint64_t{g.old_cgoffset} * ((g.ncg - 1) & ~g.old_cgmask);
    if (g.sblkno >= g.cblkno || g.cblkno >= g.iblkno || g.iblkno + inode_frags > g.dblkno ||
        g.dblkno > g.fpg || g.sblkno % g.frag != 0 || g.cblkno % g.frag != 0 ||
        g.iblkno % g.frag != 0 || std::uint64_t{g.sblkno} * g.fsize < sblock_ufs1 ||
        cg_offset_max + g.dblkno > g.fpg)
        return "CYLINDER GROUP LAYOUT WRONG";
    // The last group, however short, holds its superblock copy, header and inodes.
    if (g.cgdmin(g.ncg - 1) > g.size)
        return "LAST CYLINDER GROUP TOO SMALL";
    if (g.cgsize < sizeof(CylinderGroup) || g.cgsize > g.bsize ||
        std::uint64_t{g.cblkno} * g.fsize + g.cgsize > std::uint64_t{g.iblkno} * g.fsize)
        return fmt::format("CG SIZE {} WRONG", g.cgsize);
    if (g.cssize != g.fragroundup(std::uint64_t{g.ncg} * sizeof(Csum)) || g.csaddr < g.cgdmin(0) ||
        g.csaddr + g.cssize / g.fsize > std::min(g.size, g.cgbase(1)))
        return "SUMMARY AREA WRONG";
    if (g.contigsumsize > fs_maxcontig)
        return "CONTIGSUMSIZE OUT OF RANGE";
    if (std::uint64_t{1} << g.fsbtodb != g.fsize / dev_bsize)
        return "FSBTODB WRONG";
    if (!g.ufs2) {
        if (g.old_nrpos == 0 || g.old_nrpos > 64 ||
            std::uint64_t{g.old_cpg} * (4 + 2 * g.old_nrpos) > g.cgsize)
            return "ROTATIONAL TABLES WRONG";
        if (!g.flags_updated) {
            const std::uint64_t ncyl = o.u32(sb.fs_old_ncyl);
            if (std::uint64_t{g.ncg} * g.old_cpg < ncyl ||
                std::uint64_t{g.ncg - 1} * g.old_cpg >= ncyl)
                return "NCYL LESS THAN NCG*CPG";
        }
    }
    if (g.maxsymlinklen > ndaddr * g.ptr_size() + niaddr * g.ptr_size())
        return "MAXSYMLINKLEN WRONG";
    return {};
}

}  // namespace

Result<std::optional<Geometry>> find_superblock(io::BlockDevice& dev, std::string& problem) {
    std::vector<std::byte> buf(sizeof(Superblock));
    problem = "MAGIC NUMBER WRONG";
    for (const std::uint64_t off : sblock_search) {
        if (off + sizeof(Superblock) > dev.size())
            continue;
        UKFS_TRY(dev.read_at(off, buf));
        Superblock sb;
        std::memcpy(&sb, buf.data(), sizeof sb);
        for (const std::endian e : {std::endian::little, std::endian::big}) {
            Geometry g;
            g.order = Order(e);
            if (!magic_fits(sb, g.order, off, g.ufs2))
                continue;
            g.sb = sb;
            g.sblock_offset = off;
            // As readsb(): the first superblock in its place is the one checked; one that does
            // not validate ends the search.
            problem = validate(g, dev.size());
            if (!problem.empty())
                return std::optional<Geometry>();
            return std::optional<Geometry>(std::move(g));
        }
    }
    return std::optional<Geometry>();
}

bool alternate_matches(const Geometry& g, const Superblock& alt) {
    const Order& o = g.order;
    const Superblock& sb = g.sb;
    auto same = [&](const Raw32& a, const Raw32& b) { return o.u32(a) == o.u32(b); };
    std::uint32_t magic = o.u32(alt.fs_magic);
    if (magic == ufs2ea_magic)
        magic = ufs2_magic;
    std::uint32_t primary_magic = o.u32(sb.fs_magic);
    if (primary_magic == ufs2ea_magic)
        primary_magic = ufs2_magic;
    return same(alt.fs_sblkno, sb.fs_sblkno) && same(alt.fs_cblkno, sb.fs_cblkno) &&
           same(alt.fs_iblkno, sb.fs_iblkno) && same(alt.fs_dblkno, sb.fs_dblkno) &&
           same(alt.fs_ncg, sb.fs_ncg) && same(alt.fs_bsize, sb.fs_bsize) &&
           same(alt.fs_fsize, sb.fs_fsize) && same(alt.fs_frag, sb.fs_frag) &&
           same(alt.fs_bmask, sb.fs_bmask) && same(alt.fs_fmask, sb.fs_fmask) &&
           same(alt.fs_bshift, sb.fs_bshift) && same(alt.fs_fshift, sb.fs_fshift) &&
           same(alt.fs_fragshift, sb.fs_fragshift) && same(alt.fs_fsbtodb, sb.fs_fsbtodb) &&
           same(alt.fs_sbsize, sb.fs_sbsize) && same(alt.fs_nindir, sb.fs_nindir) &&
           same(alt.fs_inopb, sb.fs_inopb) && same(alt.fs_cssize, sb.fs_cssize) &&
           same(alt.fs_ipg, sb.fs_ipg) && same(alt.fs_fpg, sb.fs_fpg) && magic == primary_magic;
}

std::vector<std::string> superblock_warnings(const Geometry& g) {
    const Order& o = g.order;
    const Superblock& sb = g.sb;
    std::vector<std::string> w;
    const std::uint32_t optim = o.u32(sb.fs_optim);
    if (optim != opt_time && optim != opt_space)
        w.push_back("UNDEFINED OPTIMIZATION IN SUPERBLOCK");
    const auto minfree = static_cast<std::int32_t>(o.u32(sb.fs_minfree));
    if (minfree < 0 || minfree > 99)
        w.push_back(fmt::format("IMPOSSIBLE MINFREE={} IN SUPERBLOCK", minfree));
    if (!g.ufs2 && !g.flags_updated && g.old_postblformat == postbl_dynamic) {
        if (static_cast<std::int32_t>(g.old_interleave) < 1)
            w.push_back(fmt::format("IMPOSSIBLE INTERLEAVE={} IN SUPERBLOCK",
                                    static_cast<std::int32_t>(g.old_interleave)));
        if (g.old_npsect < g.old_nsect)
            w.push_back(fmt::format("IMPOSSIBLE NPSECT={} IN SUPERBLOCK", g.old_npsect));
    }
    if (o.u32(sb.fs_bmask) != ~(g.bsize - 1))
        w.push_back(fmt::format("INCORRECT BMASK={:x} IN SUPERBLOCK", o.u32(sb.fs_bmask)));
    if (o.u32(sb.fs_fmask) != ~(g.fsize - 1))
        w.push_back(fmt::format("INCORRECT FMASK={:x} IN SUPERBLOCK", o.u32(sb.fs_fmask)));
    if (o.u32(sb.fs_bshift) != static_cast<std::uint32_t>(std::countr_zero(g.bsize)) ||
        o.u32(sb.fs_fshift) != static_cast<std::uint32_t>(std::countr_zero(g.fsize)) ||
        o.u32(sb.fs_fragshift) != static_cast<std::uint32_t>(std::countr_zero(g.frag)))
        w.push_back("INCORRECT SHIFTS IN SUPERBLOCK");
    if (o.u64(sb.fs_qbmask) != std::uint64_t{g.bsize - 1})
        w.push_back(fmt::format("INCORRECT QBMASK={:x} IN SUPERBLOCK", o.u64(sb.fs_qbmask)));
    if (o.u64(sb.fs_qfmask) != std::uint64_t{g.fsize - 1})
        w.push_back(fmt::format("INCORRECT QFMASK={:x} IN SUPERBLOCK", o.u64(sb.fs_qfmask)));
    return w;
}

}  // namespace uk::ffs::check
