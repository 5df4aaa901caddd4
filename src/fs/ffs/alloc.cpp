// Allocation by cylinder group, the summaries, and the superblock's clean state (see fs.hpp).
// Facts: NetBSD sys/ufs/ffs/ffs_alloc.c (ffs_dirpref, ffs_alloccg, ffs_alloccgblk,
// ffs_clusteracct, ffs_nodealloccg's lazy inode blocks), ffs_subr.c (ffs_fragacct), fs.h (the
// cg map offsets), ffs_vfsops.c (the clean flag at mount and unmount, ffs_oldfscompat_write).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "fs/ffs/fs.hpp"

namespace uk::ffs {

namespace {

CylinderGroup header(const std::vector<std::byte>& b) {
    CylinderGroup h;
    std::memcpy(&h, b.data(), sizeof h);
    return h;
}

void put_header(std::vector<std::byte>& b, const CylinderGroup& h) {
    std::memcpy(b.data(), &h, sizeof h);
}

bool bit(const std::vector<std::byte>& b, std::uint32_t off, std::uint64_t i) {
    return ((std::to_integer<unsigned>(b[off + i / 8]) >> (i % 8)) & 1) != 0;
}

void set_bit(std::vector<std::byte>& b, std::uint32_t off, std::uint64_t i, bool on) {
    const auto m = std::byte{static_cast<std::uint8_t>(1u << (i % 8))};
    if (on)
        b[off + i / 8] |= m;
    else
        b[off + i / 8] &= ~m;
}

std::uint32_t u32_at(const Order& o, const std::vector<std::byte>& b, std::size_t off) {
    Raw32 r;
    std::memcpy(&r, b.data() + off, 4);
    return o.u32(r);
}

void set_u32_at(const Order& o, std::vector<std::byte>& b, std::size_t off, std::uint32_t v) {
    Raw32 r;
    o.set(r, v);
    std::memcpy(b.data() + off, &r, 4);
}

// The header of group c, checked field by field before anything in it is used: the identity
// (cg_magic, cg_cgx; what NetBSD's cg_chkmagic and FreeBSD's cgget test), the sizes newfs
// writes (cg_ndblk, cg_niblk; FreeBSD fsck_ffs' check_cgmagic), the map offsets inside
// fs_cgsize bytes, and counts no larger than the group. The message names the group and field.
Result<void> check_cg_header(const Geometry& g, std::uint32_t contigsumsize, std::uint32_t c,
                             const CylinderGroup& h) {
    const Order o = g.order;
    const std::string what = fmt::format("ffs: cylinder group {}", c);
    const auto bad = [&](std::string why) { return Error::corrupt(what, why); };
    if (o.u32(h.cg_magic) != cg_magic)
        return bad(fmt::format("cg_magic {:#x} is not {:#x}", o.u32(h.cg_magic), cg_magic));
    if (o.u32(h.cg_cgx) != c)
        return bad(fmt::format("cg_cgx {} is not {}", o.u32(h.cg_cgx), c));
    const std::uint64_t ndblk = std::min<std::uint64_t>(g.fpg, g.size - g.cgbase(c));
    if (o.u32(h.cg_ndblk) != ndblk)
        return bad(fmt::format("cg_ndblk {} is not {}", o.u32(h.cg_ndblk), ndblk));
    // UFS1 keeps the inode count in the 16-bit cg_old_niblk (cg_niblk is 0 there).
    if (g.ufs2 && o.u32(h.cg_niblk) != g.ipg)
        return bad(fmt::format("cg_niblk {} is not fs_ipg {}", o.u32(h.cg_niblk), g.ipg));
    if (!g.ufs2 && o.u16(h.cg_old_niblk) != static_cast<std::uint16_t>(g.ipg))
        return bad(fmt::format("cg_old_niblk {} is not fs_ipg {}", o.u16(h.cg_old_niblk), g.ipg));
    const auto fits = [&](std::uint64_t off, std::uint64_t len) {
        return off >= sizeof(CylinderGroup) && off <= g.cgsize && len <= g.cgsize - off;
    };
    const std::uint32_t iusedoff = o.u32(h.cg_iusedoff);
    const std::uint32_t freeoff = o.u32(h.cg_freeoff);
    const std::uint32_t nextfreeoff = o.u32(h.cg_nextfreeoff);
    const std::uint64_t freemap = (g.fpg + 7) / 8;
    if (!fits(iusedoff, (g.ipg + 7) / 8))
        return bad(fmt::format("cg_iusedoff {} puts the inode map outside the group's {} bytes",
                               iusedoff, g.cgsize));
    if (!fits(freeoff, freemap))
        return bad(fmt::format("cg_freeoff {} puts the fragment map outside the group's {} bytes",
                               freeoff, g.cgsize));
    // The maps end at cg_nextfreeoff: after the fragment map, inside the group.
    if (nextfreeoff > g.cgsize || nextfreeoff < freeoff + freemap)
        return bad(fmt::format("cg_nextfreeoff {} is not between the end of the fragment map "
                               "({}) and the group's {} bytes",
                               nextfreeoff, freeoff + freemap, g.cgsize));
    if (contigsumsize > 0 &&
        (!fits(o.u32(h.cg_clustersumoff), (std::uint64_t{contigsumsize} + 1) * 4) ||
         !fits(o.u32(h.cg_clusteroff), (g.fpg / g.frag + 7) / 8) ||
         o.u32(h.cg_nclusterblks) != ndblk / g.frag))
        return bad("cg_clustersumoff, cg_clusteroff or cg_nclusterblks puts the cluster maps "
                   "outside the group");
    if (g.ufs2 && o.u32(h.cg_initediblk) > g.ipg)
        return bad(
            fmt::format("cg_initediblk {} is over fs_ipg {}", o.u32(h.cg_initediblk), g.ipg));
    if (o.u32(h.cg_cs.cs_nifree) > g.ipg || o.u32(h.cg_cs.cs_nbfree) > ndblk / g.frag ||
        o.u32(h.cg_cs.cs_nffree) > ndblk || o.u32(h.cg_cs.cs_ndir) > g.ipg)
        return bad("cg_cs counts more than the group holds");
    return {};
}

}  // namespace

Result<FfsFs::Cg*> FfsFs::cg(std::uint32_t c) {
    const Geometry& g = m_geometry;
    if (c >= g.ncg)
        return Error::corrupt("ffs: cylinder group", fmt::format("{} is out of range", c));
    if (m_cgs.empty())
        m_cgs.resize(g.ncg);
    if (m_cgs[c])
        return m_cgs[c].get();
    auto cg = std::make_unique<Cg>();
    cg->bytes.resize(g.cgsize);
    UKFS_TRY(g.check_frags(g.cgtod(c), (g.cgsize + g.fsize - 1) >> g.fshift,
                           fmt::format("ffs: cylinder group {}", c)));
    UKFS_TRY(read_bytes(g.cgtod(c), 0, cg->bytes));
    UKFS_TRY(check_cg_header(g, m_contigsumsize, c, header(cg->bytes)));
    m_cgs[c] = std::move(cg);
    return m_cgs[c].get();
}

Result<void> FfsFs::count_from_groups() {
    Geometry& g = m_geometry;
    const Order o = g.order;
    std::uint64_t ndir = 0, nbfree = 0, nifree = 0, nffree = 0;
    for (std::uint32_t c = 0; c < g.ncg; ++c) {
        UKFS_TRY(g.check_frags(g.cgtod(c), (g.cgsize + g.fsize - 1) >> g.fshift,
                               fmt::format("ffs: cylinder group {}", c)));
        CylinderGroup h;
        UKFS_TRY(read_bytes(g.cgtod(c), 0, std::as_writable_bytes(std::span(&h, 1))));
        UKFS_TRY(check_cg_header(g, m_contigsumsize, c, h));
        ndir += o.u32(h.cg_cs.cs_ndir);
        nbfree += o.u32(h.cg_cs.cs_nbfree);
        nifree += o.u32(h.cg_cs.cs_nifree);
        nffree += o.u32(h.cg_cs.cs_nffree);
    }
    g.cs_ndir = ndir;
    g.cs_nbfree = nbfree;
    g.cs_nifree = nifree;
    g.cs_nffree = nffree;
    return {};
}

void FfsFs::cs_add(std::uint32_t c, Cg& cg, int ndir, std::int64_t nbfree, std::int64_t nifree,
                   std::int64_t nffree) {
    const Order o = m_geometry.order;
    CylinderGroup h = header(cg.bytes);
    const auto add = [&](Raw32& r, std::int64_t d) {
        o.set(r, static_cast<std::uint32_t>(static_cast<std::int64_t>(o.u32(r)) + d));
    };
    add(h.cg_cs.cs_ndir, ndir);
    add(h.cg_cs.cs_nbfree, nbfree);
    add(h.cg_cs.cs_nifree, nifree);
    add(h.cg_cs.cs_nffree, nffree);
    put_header(cg.bytes, h);
    m_csum[c] = h.cg_cs;
    Geometry& g = m_geometry;
    g.cs_ndir += static_cast<std::uint64_t>(ndir);
    g.cs_nbfree += static_cast<std::uint64_t>(nbfree);
    g.cs_nifree += static_cast<std::uint64_t>(nifree);
    g.cs_nffree += static_cast<std::uint64_t>(nffree);
    cg.dirty = true;
}

// Change the state of fragments [first, first + count) of group c (indices from cgbase), all in
// one block, and keep every count that depends on them exact: cg_cs, cg_frsum (runs of free
// fragments in partly free blocks), the cluster map and its summary.
Result<void> FfsFs::change_frags(std::uint32_t c, Cg& cg, std::uint32_t first, std::uint32_t count,
                                 bool make_free) {
    const Geometry& g = m_geometry;
    const Order o = g.order;
    CylinderGroup h = header(cg.bytes);
    const std::uint32_t freeoff = o.u32(h.cg_freeoff);
    const std::uint32_t blk = first / g.frag;
    const std::uint32_t base = blk * g.frag;
    const std::uint32_t ndblk = o.u32(h.cg_ndblk);
    if (count == 0 || first + count > base + g.frag || first + count > ndblk)
        return Error::corrupt(
            fmt::format("ffs: cylinder group {}", c),
            fmt::format("fragments {}+{} are not inside one block", first, count));
    struct State {
        bool full = true;
        std::uint32_t nfree = 0;
        std::uint32_t runs[max_frag + 1] = {};
    };
    const auto state = [&] {
        State s;
        std::uint32_t run = 0;
        for (std::uint32_t j = 0; j < g.frag; ++j) {
            const bool f = base + j < ndblk && bit(cg.bytes, freeoff, base + j);
            if (f) {
                ++s.nfree;
                ++run;
            } else {
                s.full = false;
                if (run > 0)
                    ++s.runs[run];
                run = 0;
            }
        }
        if (run > 0 && !s.full)
            ++s.runs[run];
        return s;
    };
    const State before = state();
    for (std::uint32_t i = first; i < first + count; ++i) {
        if (bit(cg.bytes, freeoff, i) == make_free)
            return Error::corrupt(fmt::format("ffs: cylinder group {}", c),
                                  fmt::format("fragment {} is {} already", g.cgbase(c) + i,
                                              make_free ? "free" : "in use"));
        set_bit(cg.bytes, freeoff, i, make_free);
    }
    const State after = state();
    h = header(cg.bytes);
    for (std::uint32_t k = 1; k < g.frag; ++k) {
        const std::int64_t d = std::int64_t{before.full ? 0 : -std::int64_t{before.runs[k]}} +
                               (after.full ? 0 : after.runs[k]);
        o.set(h.cg_frsum[k], static_cast<std::uint32_t>(o.u32(h.cg_frsum[k]) + d));
    }
    put_header(cg.bytes, h);
    const std::int64_t dbfree = std::int64_t{after.full} - std::int64_t{before.full};
    const std::int64_t dffree =
        std::int64_t{after.full ? 0u : after.nfree} - std::int64_t{before.full ? 0u : before.nfree};
    cs_add(c, cg, 0, dbfree, 0, dffree);
    if (dbfree != 0 && m_contigsumsize > 0 && blk < o.u32(h.cg_nclusterblks)) {
        // ffs_clusteracct: the run through blk, with each side counted up to contigsumsize.
        const std::uint32_t coff = o.u32(h.cg_clusteroff);
        const std::uint32_t soff = o.u32(h.cg_clustersumoff);
        const std::uint32_t nblks = o.u32(h.cg_nclusterblks);
        const std::uint32_t cs = m_contigsumsize;
        set_bit(cg.bytes, coff, blk, after.full);
        std::uint32_t forw = 0, back = 0;
        for (std::uint32_t i = blk + 1; i < nblks && forw < cs && bit(cg.bytes, coff, i); ++i)
            ++forw;
        for (std::uint32_t i = blk; i > 0 && back < cs && bit(cg.bytes, coff, i - 1); --i)
            ++back;
        const auto bump = [&](std::uint32_t len, std::int64_t d) {
            const std::size_t at = soff + std::size_t{len} * 4;
            set_u32_at(o, cg.bytes, at, static_cast<std::uint32_t>(u32_at(o, cg.bytes, at) + d));
        };
        const std::int64_t sign = after.full ? 1 : -1;
        bump(std::min(back + forw + 1, cs), sign);
        if (back > 0)
            bump(back, -sign);
        if (forw > 0)
            bump(forw, -sign);
    }
    return {};
}

Result<std::uint64_t> FfsFs::alloc_in_cg(std::uint32_t c, std::uint64_t pref, std::uint32_t count) {
    const Geometry& g = m_geometry;
    const Order o = g.order;
    Cg& cg = *UKFS_TRY(this->cg(c));
    CylinderGroup h = header(cg.bytes);
    const std::uint32_t freeoff = o.u32(h.cg_freeoff);
    const std::uint32_t nblks = o.u32(h.cg_ndblk) / g.frag;
    const std::uint64_t base = g.cgbase(c);
    const bool pref_here = pref >= base && pref - base < std::uint64_t{nblks} * g.frag;
    // A block's fragment bits lie in one byte of the map (fs_frag is 1, 2, 4 or 8): the free
    // ones, shifted down.
    const auto free_bits = [&](std::uint32_t b) {
        const std::uint32_t first = b * g.frag;
        return (std::to_integer<unsigned>(cg.bytes[freeoff + first / 8]) >> (first % 8)) &
               ((1u << g.frag) - 1);
    };
    const auto block_free = [&](std::uint32_t b) { return free_bits(b) == (1u << g.frag) - 1; };
    const auto take_block = [&]() -> Result<std::uint32_t> {
        if (o.u32(h.cg_cs.cs_nbfree) == 0 || nblks == 0)
            return ~0u;
        std::uint32_t start = pref_here ? static_cast<std::uint32_t>((pref - base) / g.frag)
                                        : o.u32(h.cg_rotor) / g.frag;
        if (start >= nblks)
            start = 0;
        for (std::uint32_t i = 0; i < nblks; ++i) {
            const std::uint32_t b = (start + i) % nblks;
            if (!block_free(b))
                continue;
            UKFS_TRY(change_frags(c, cg, b * g.frag, g.frag, false));
            CylinderGroup hh = header(cg.bytes);
            o.set(hh.cg_rotor, b * g.frag);
            put_header(cg.bytes, hh);
            return b;
        }
        return Error::corrupt(fmt::format("ffs: cylinder group {}", c),
                              "cs_nbfree counts a free block the map does not have");
    };
    if (count >= g.frag) {
        const std::uint32_t b = UKFS_TRY(take_block());
        if (b == ~0u)
            return std::uint64_t{0};
        return base + std::uint64_t{b} * g.frag;
    }
    // The smallest run size with a free run of at least `count` in a partly free block.
    std::uint32_t size = count;
    while (size < g.frag && o.u32(h.cg_frsum[size]) == 0)
        ++size;
    if (size == g.frag) {  // none: break up a whole block
        const std::uint32_t b = UKFS_TRY(take_block());
        if (b == ~0u)
            return std::uint64_t{0};
        UKFS_TRY(change_frags(c, cg, b * g.frag + count, g.frag - count, true));
        return base + std::uint64_t{b} * g.frag;
    }
    const std::uint32_t ndblk = o.u32(h.cg_ndblk);
    const std::uint32_t nb_all = (ndblk + g.frag - 1) / g.frag;
    std::uint32_t start = o.u32(h.cg_frotor) / g.frag;
    if (start >= nb_all)
        start = 0;
    for (std::uint32_t i = 0; i < nb_all; ++i) {
        const std::uint32_t b = (start + i) % nb_all;
        // Only a partly free block can hold the run (a block past cg_ndblk is looked at below).
        if ((b + 1) * g.frag <= ndblk && (free_bits(b) == 0 || block_free(b)))
            continue;
        std::uint32_t run = 0;
        for (std::uint32_t j = 0; j <= g.frag; ++j) {
            const std::uint32_t f = b * g.frag + j;
            if (j < g.frag && f < ndblk && bit(cg.bytes, freeoff, f)) {
                ++run;
                continue;
            }
            if (run == size) {
                const std::uint32_t at = f - run;
                UKFS_TRY(change_frags(c, cg, at, count, false));
                CylinderGroup hh = header(cg.bytes);
                o.set(hh.cg_frotor, b * g.frag);
                put_header(cg.bytes, hh);
                return base + at;
            }
            run = 0;
        }
    }
    return Error::corrupt(fmt::format("ffs: cylinder group {}", c),
                          "cg_frsum counts a free run the map does not have");
}

Result<void> FfsFs::check_reserve() const {
    const Geometry& g = m_geometry;
    if (m_caller_root || g.minfree == 0)
        return {};
    const std::uint64_t free = (g.cs_nbfree << g.fragshift) + g.cs_nffree;
    if (free <= g.dsize * g.minfree / 100)
        return Error::sys(ENOSPC,
                          fmt::format("ffs: only the {}% reserve is left, for root", g.minfree));
    return {};
}

Result<std::uint64_t> FfsFs::alloc_frags(std::uint64_t pref, std::uint32_t count) {
    const Geometry& g = m_geometry;
    UKFS_TRY(check_reserve());
    count = std::clamp<std::uint32_t>(count, 1, g.frag);
    const std::uint32_t c0 =
        pref != 0 && pref < g.size ? static_cast<std::uint32_t>(pref / g.fpg) : 0;
    for (std::uint32_t i = 0; i < g.ncg; ++i) {
        const std::uint32_t c = (c0 + i) % g.ncg;
        const Csum& s = m_csum[c];
        if (g.order.u32(s.cs_nbfree) == 0 && (count == g.frag || g.order.u32(s.cs_nffree) < count))
            continue;
        const std::uint64_t got = UKFS_TRY(alloc_in_cg(c, i == 0 ? pref : 0, count));
        if (got != 0)
            return got;
    }
    return Error::sys(ENOSPC);
}

Result<bool> FfsFs::extend_frags(std::uint64_t addr, std::uint32_t have, std::uint32_t want) {
    const Geometry& g = m_geometry;
    const auto c = static_cast<std::uint32_t>(addr / g.fpg);
    const auto idx = static_cast<std::uint32_t>(addr - g.cgbase(c));
    if (want <= have || (idx % g.frag) + want > g.frag)
        return false;
    UKFS_TRY(check_reserve());
    Cg& cg = *UKFS_TRY(this->cg(c));
    const CylinderGroup h = header(cg.bytes);
    const std::uint32_t freeoff = g.order.u32(h.cg_freeoff);
    for (std::uint32_t i = idx + have; i < idx + want; ++i)
        if (i >= g.order.u32(h.cg_ndblk) || !bit(cg.bytes, freeoff, i))
            return false;
    UKFS_TRY(change_frags(c, cg, idx + have, want - have, false));
    return true;
}

Result<void> FfsFs::free_frags(std::uint64_t addr, std::uint32_t count) {
    const Geometry& g = m_geometry;
    const std::string what = fmt::format("ffs: freeing fragments {}+{}", addr, count);
    UKFS_TRY(g.check_frags(addr, count, what));
    const auto c = static_cast<std::uint32_t>(addr / g.fpg);
    const bool metadata =
        (addr < g.cgdmin(c) && (c == 0 || addr + count > g.cgsblock(c))) ||
        (addr < g.csaddr + ((g.cssize + g.fsize - 1) >> g.fshift) && addr + count > g.csaddr);
    if (metadata)
        return Error::corrupt(what, "they are the file system's own metadata");
    Cg& cg = *UKFS_TRY(this->cg(c));
    UKFS_TRY(change_frags(c, cg, static_cast<std::uint32_t>(addr - g.cgbase(c)), count, true));
    for (std::uint32_t i = 0; i < count; ++i)
        m_cache->invalidate(addr + i);
    return {};
}

std::uint64_t FfsFs::inode_pref(std::uint32_t ino) const {
    return m_geometry.cgdmin(m_geometry.ino_to_cg(ino));
}

std::uint64_t FfsFs::section_pref(std::uint32_t start) const {
    const Geometry& g = m_geometry;
    const std::uint64_t avgbfree = g.cs_nbfree / g.ncg;
    for (std::uint32_t i = 0; i < g.ncg && i < m_csum.size(); ++i) {
        const std::uint32_t c = (start + i) % g.ncg;
        if (g.order.u32(m_csum[c].cs_nbfree) >= avgbfree)
            return g.cgdmin(c);
    }
    return 0;
}

std::uint32_t FfsFs::dir_pref(std::uint32_t parent) const {
    const Geometry& g = m_geometry;
    const Order o = g.order;
    const auto ndir = [&](std::uint32_t c) { return std::uint64_t{o.u32(m_csum[c].cs_ndir)}; };
    const auto nifree = [&](std::uint32_t c) { return std::uint64_t{o.u32(m_csum[c].cs_nifree)}; };
    const auto nbfree = [&](std::uint32_t c) { return std::uint64_t{o.u32(m_csum[c].cs_nbfree)}; };
    const std::uint64_t avgifree = g.cs_nifree / g.ncg;
    const std::uint64_t avgbfree = g.cs_nbfree / g.ncg;
    const std::uint64_t avgndir = g.cs_ndir / g.ncg;

    // A directory in the root goes to the group with the fewest directories among those with
    // at least the average of free inodes and blocks, searched from a changing start (NetBSD:
    // a random one; here the generation counter, which the mount's clock seeds).
    if (parent == root_ino) {
        const std::uint32_t prefcg = m_generation % g.ncg;
        std::uint32_t mincg = prefcg;
        std::uint64_t minndir = g.ipg;
        for (std::uint32_t i = 0; i < g.ncg; ++i) {
            const std::uint32_t c = (prefcg + i) % g.ncg;
            if (ndir(c) < minndir && nifree(c) >= avgifree && nbfree(c) >= avgbfree) {
                mincg = c;
                minndir = ndir(c);
            }
        }
        return mincg;
    }

    // Any other stays near its parent: the first group from the parent's with fewer than
    // maxndir directories, no deficit of inodes or blocks, and fewer than maxcontigdirs
    // directories made there one after another without a file between them.
    const std::uint64_t maxndir = std::min<std::uint64_t>(avgndir + g.ipg / 16, g.ipg);
    const std::uint64_t minifree = avgifree > g.ipg / 4 ? avgifree - g.ipg / 4 : 0;
    const std::uint64_t blocks_per_group = g.fpg / g.frag;
    const std::uint64_t minbfree =
        avgbfree > blocks_per_group / 4 ? avgbfree - blocks_per_group / 4 : 0;
    // fs_avgfilesize and fs_avgfpdir: NetBSD takes newfs' defaults (AVFILESIZ, AFPDIR) for
    // a superblock that has none.
    std::uint64_t avgfilesize = o.u32(m_sb.fs_avgfilesize);
    std::uint64_t avgfpdir = o.u32(m_sb.fs_avgfpdir);
    avgfilesize = avgfilesize != 0 && avgfilesize < (1u << 31) ? avgfilesize : 16384;
    avgfpdir = avgfpdir != 0 && avgfpdir < (1u << 31) ? avgfpdir : 64;
    const std::uint64_t cgsize = std::uint64_t{g.fsize} * g.fpg;
    std::uint64_t dirsize = avgfilesize * avgfpdir;
    if (avgndir != 0) {
        const std::uint64_t used = cgsize > avgbfree * g.bsize ? cgsize - avgbfree * g.bsize : 0;
        dirsize = std::max(dirsize, used / avgndir);
    }
    std::uint64_t maxcontigdirs = dirsize > cgsize / 255 ? cgsize / dirsize : 255;
    maxcontigdirs = std::max<std::uint64_t>(std::min(maxcontigdirs, g.ipg / avgfpdir), 1);

    const std::uint32_t prefcg = g.ino_to_cg(parent) < g.ncg ? g.ino_to_cg(parent) : 0;
    for (std::uint32_t i = 0; i < g.ncg; ++i) {
        const std::uint32_t c = (prefcg + i) % g.ncg;
        if (ndir(c) < maxndir && nifree(c) >= minifree && nbfree(c) >= minbfree &&
            m_contigdirs[c] < maxcontigdirs)
            return c;
    }
    // Short of space: the first group with the average of free inodes.
    for (std::uint32_t i = 0; i < g.ncg; ++i) {
        const std::uint32_t c = (prefcg + i) % g.ncg;
        if (nifree(c) >= avgifree)
            return c;
    }
    return prefcg;
}

Result<std::uint32_t> FfsFs::alloc_inode(std::uint32_t parent, bool is_dir) {
    const Geometry& g = m_geometry;
    const Order o = g.order;
    const std::uint32_t c0 = is_dir                        ? dir_pref(parent)
                             : g.ino_to_cg(parent) < g.ncg ? g.ino_to_cg(parent)
                                                           : 0;
    // ffs_valloc counts the directories made in a row in the preferred group; a file there
    // ends the row.
    std::uint8_t& row = m_contigdirs[c0];
    if (is_dir && row < 255)
        ++row;
    else if (!is_dir && row > 0)
        --row;
    for (std::uint32_t i = 0; i < g.ncg; ++i) {
        const std::uint32_t c = (c0 + i) % g.ncg;
        if (o.u32(m_csum[c].cs_nifree) == 0)
            continue;
        Cg& cg = *UKFS_TRY(this->cg(c));
        CylinderGroup h = header(cg.bytes);
        const std::uint32_t iusedoff = o.u32(h.cg_iusedoff);
        std::uint32_t start = o.u32(h.cg_irotor);
        if (start >= g.ipg)
            start = 0;
        std::uint32_t ipos = g.ipg;
        for (std::uint32_t k = 0; k < g.ipg; ++k) {
            const std::uint32_t p = (start + k) % g.ipg;
            if ((c != 0 || p >= root_ino) && !bit(cg.bytes, iusedoff, p)) {
                ipos = p;
                break;
            }
        }
        if (ipos == g.ipg)
            return Error::corrupt(fmt::format("ffs: cylinder group {}", c),
                                  "cs_nifree counts a free inode the map does not have");
        if (g.ufs2) {  // inode blocks past cg_initediblk hold garbage: zero them before use
            std::uint32_t inited = o.u32(h.cg_initediblk);
            while (ipos + g.inopb > inited && inited < g.ipg) {
                const std::uint64_t block = g.ino_to_fsba(std::uint64_t{c} * g.ipg + inited);
                UKFS_TRY(g.check_frags(block, g.frag, "ffs: inode block"));
                UKFS_TRY(zero_frags(block, g.frag));
                inited += g.inopb;
            }
            o.set(h.cg_initediblk, inited);
        }
        set_bit(cg.bytes, iusedoff, ipos, true);
        o.set(h.cg_irotor, ipos);
        std::memcpy(cg.bytes.data() + offsetof(CylinderGroup, cg_irotor), &h.cg_irotor, 4);
        std::memcpy(cg.bytes.data() + offsetof(CylinderGroup, cg_initediblk), &h.cg_initediblk, 4);
        cs_add(c, cg, is_dir ? 1 : 0, 0, -1, 0);
        return c * g.ipg + ipos;
    }
    return Error::sys(ENOSPC);
}

Result<void> FfsFs::free_inode(std::uint32_t ino, bool is_dir) {
    const Geometry& g = m_geometry;
    const Order o = g.order;
    const std::uint32_t c = g.ino_to_cg(ino);
    Cg& cg = *UKFS_TRY(this->cg(c));
    CylinderGroup h = header(cg.bytes);
    const std::uint32_t ipos = ino % g.ipg;
    if (!bit(cg.bytes, o.u32(h.cg_iusedoff), ipos))
        return Error::corrupt(fmt::format("ffs: inode {}", ino), "is free already in its group");
    set_bit(cg.bytes, o.u32(h.cg_iusedoff), ipos, false);
    if (ipos < o.u32(h.cg_irotor)) {
        o.set(h.cg_irotor, ipos);
        std::memcpy(cg.bytes.data() + offsetof(CylinderGroup, cg_irotor), &h.cg_irotor, 4);
    }
    cs_add(c, cg, is_dir ? -1 : 0, 0, 1, 0);
    return {};
}

Result<void> FfsFs::store_super(bool clean) {
    const Geometry& g = m_geometry;
    const Order o = g.order;
    o.set(m_sb.fs_cstotal.cs_ndir, g.cs_ndir);
    o.set(m_sb.fs_cstotal.cs_nbfree, g.cs_nbfree);
    o.set(m_sb.fs_cstotal.cs_nifree, g.cs_nifree);
    o.set(m_sb.fs_cstotal.cs_nffree, g.cs_nffree);
    const timespec t = now();
    o.set(m_sb.fs_time, static_cast<std::uint64_t>(t.tv_sec));
    if (!g.ufs2) {  // ffs_oldfscompat_write: UFS1 keeps the old copies too
        o.set(m_sb.fs_old_cstotal.cs_ndir, static_cast<std::uint32_t>(g.cs_ndir));
        o.set(m_sb.fs_old_cstotal.cs_nbfree, static_cast<std::uint32_t>(g.cs_nbfree));
        o.set(m_sb.fs_old_cstotal.cs_nifree, static_cast<std::uint32_t>(g.cs_nifree));
        o.set(m_sb.fs_old_cstotal.cs_nffree, static_cast<std::uint32_t>(g.cs_nffree));
        o.set(m_sb.fs_old_time, static_cast<std::uint32_t>(t.tv_sec));
    }
    m_sb.fs_fmod = 0;
    m_sb.fs_clean = clean ? fs_isclean : 0;
    m_geometry.clean = m_sb.fs_clean;
    return write_bytes(g.sblock_offset >> g.fshift, g.sblock_offset & (g.fsize - 1),
                       std::as_bytes(std::span(&m_sb, 1)));
}

Result<void> FfsFs::begin_writing() {
    const Geometry& g = m_geometry;
    m_csum.resize(g.ncg);
    m_contigdirs.assign(g.ncg, 0);
    UKFS_TRY(g.check_frags(g.csaddr, (g.cssize + g.fsize - 1) >> g.fshift, "ffs: summary area"));
    UKFS_TRY(read_bytes(g.csaddr, 0, std::as_writable_bytes(std::span(m_csum))));
    UKFS_TRY(store_super(false));
    UKFS_TRY(m_cache->sync());  // marked unclean on the device before anything else changes
    m_writing = true;
    return {};
}

Result<void> FfsFs::write_back() {
    const Geometry& g = m_geometry;
    const Order o = g.order;
    const timespec t = now();
    bool any = false;
    for (std::uint32_t c = 0; c < m_cgs.size(); ++c) {
        Cg* cg = m_cgs[c].get();
        if (cg == nullptr || !cg->dirty)
            continue;
        CylinderGroup h = header(cg->bytes);
        o.set(h.cg_time, static_cast<std::uint64_t>(t.tv_sec));
        o.set(h.cg_old_time, static_cast<std::uint32_t>(t.tv_sec));
        put_header(cg->bytes, h);
        UKFS_TRY(write_bytes(g.cgtod(c), 0, cg->bytes));
        cg->dirty = false;
        any = true;
    }
    if (any)
        UKFS_TRY(write_bytes(g.csaddr, 0, std::as_bytes(std::span(m_csum))));
    return store_super(false);
}

Result<void> FfsFs::sync() {
    if (!m_writing)
        return {};
    UKFS_TRY(write_back());
    return m_cache->sync();
}

Result<void> FfsFs::unmount() {
    if (!m_writing)
        return {};
    UKFS_TRY(write_back());
    UKFS_TRY(m_cache->sync());  // everything else first, then the clean state
    UKFS_TRY(store_super(true));
    UKFS_TRY(m_cache->sync());
    m_writing = false;
    return {};
}

}  // namespace uk::ffs
