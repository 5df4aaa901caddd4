// Phase 5 (cylinder groups): each cg rebuilt from what phases 1-4 found, then compared with the
// disk: the header and its counts ("SUMMARY INFORMATION BAD"), the inode, fragment and cluster
// maps ("BLK(S) MISSING IN BIT MAPS"), the summary area and the superblock totals ("FREE BLK
// COUNT(S) WRONG IN SUPERBLK"), the alternate superblocks. Facts: fsck_ffs pass5.c,
// ffs_subr.c (ffs_fragacct), fs.h (cg map offsets, old_cbtocylno, old_cbtorpos).
#include <cstring>

#include <fmt/format.h>

#include "fs/ffs/check/checker.hpp"

namespace uk::ffs::check {

namespace {

constexpr std::uint32_t basesize = sizeof(CylinderGroup);
constexpr std::uint32_t postbl_dynamic = 1;

struct Layout {
    std::uint32_t btotoff = 0, boff = 0, iusedoff = 0, freeoff = 0, nextfreeoff = 0;
    std::uint32_t clustersumoff = 0, clusteroff = 0;
};

Layout layout(const Geometry& g) {
    Layout l;
    if (g.ufs2) {
        l.iusedoff = basesize;
    } else {
        l.btotoff = basesize;
        l.boff = l.btotoff + g.old_cpg * 4;
        l.iusedoff = l.boff + g.old_cpg * g.old_nrpos * 2;
    }
    l.freeoff = l.iusedoff + (g.ipg + 7) / 8;
    l.nextfreeoff = l.freeoff + (g.fpg + 7) / 8;
    if (g.contigsumsize > 0) {
        l.clustersumoff = (l.nextfreeoff - 4 + 3) / 4 * 4;
        l.clusteroff = l.clustersumoff + (g.contigsumsize + 1) * 4;
        l.nextfreeoff = l.clusteroff + (g.fpg / g.frag + 7) / 8;
    }
    return l;
}

void setbit(std::vector<std::byte>& b, std::uint64_t off, std::uint64_t bit) {
    b[off + bit / 8] |= std::byte{static_cast<std::uint8_t>(1u << (bit % 8))};
}

}  // namespace

Result<void> Checker::pass5() {
    const Order& o = m_g.order;
    const Layout l = layout(m_g);
    const std::uint32_t mapsize = l.nextfreeoff - l.iusedoff;
    const bool rot_ok = m_g.old_spc != 0 && m_g.old_nsect != 0 && m_g.old_npsect != 0;
    const std::uint32_t sumsize =
        (!m_g.ufs2 && !m_g.flags_updated && m_g.old_postblformat == postbl_dynamic && rot_ok)
            ? l.iusedoff - l.btotoff
            : 0;
    if (l.nextfreeoff > m_g.cgsize) {
        problem("SUMMARY INFORMATION BAD", "SUMMARY INFORMATION BAD", "SALVAGE");
        return {};
    }
    // The fragments past the end of the file system in its last block count as used.
    for (std::uint64_t d = m_g.size; d < (m_g.size + m_g.frag - 1) / m_g.frag * m_g.frag; ++d)
        setbmap(d);

    std::vector<std::byte> cs_area(m_g.cssize);
    UKFS_TRY(dev().read_at(m_g.bytes(m_g.csaddr), cs_area));
    std::vector<std::byte> cgbuf(m_g.cgsize), newbuf(m_g.cgsize);
    std::uint64_t tot_ndir = 0, tot_nbfree = 0, tot_nifree = 0, tot_nffree = 0;
    bool told_counts = false, told_summary = false, told_maps = false, told_alt = false;
    auto counts_wrong = [&] {
        if (!told_counts)
            problem("FREE BLK COUNT(S) WRONG IN SUPERBLK", "FREE BLK COUNT(S) WRONG IN SUPERBLK",
                    "FIX");
        told_counts = true;
    };

    for (std::uint64_t c = 0; c < m_g.ncg; ++c) {
        UKFS_TRY(dev().read_at(m_g.bytes(m_g.cgtod(c)), cgbuf));
        CylinderGroup cg;
        std::memcpy(&cg, cgbuf.data(), sizeof cg);
        if (o.u32(cg.cg_magic) != cg_magic)
            problem(fmt::format("CG {}: PASS5: BAD MAGIC NUMBER", c),
                    fmt::format("CG {}: PASS5: BAD MAGIC NUMBER", c));
        Superblock alt;
        UKFS_TRY(
            dev().read_at(m_g.bytes(m_g.cgsblock(c)),
                          std::span<std::byte>(reinterpret_cast<std::byte*>(&alt), sizeof alt)));
        if (!alternate_matches(m_g, alt) && !told_alt) {
            told_alt = true;
            problem("ALTERNATE SUPERBLK(S) ARE INCORRECT", "ALTERNATE SUPERBLK(S) ARE INCORRECT",
                    "FIX");
        }

        const std::uint64_t dbase = m_g.cgbase(c);
        const std::uint64_t dmax = std::min<std::uint64_t>(dbase + m_g.fpg, m_g.size);
        const auto ndblk = static_cast<std::uint32_t>(dmax - dbase);
        std::fill(newbuf.begin(), newbuf.end(), std::byte{0});
        CylinderGroup n{};
        o.set(n.cg_magic, cg_magic);
        if (m_g.ufs2 || m_g.flags_updated)
            n.cg_time = cg.cg_time;
        n.cg_old_time = cg.cg_old_time;
        o.set(n.cg_cgx, static_cast<std::uint32_t>(c));
        o.set(n.cg_ndblk, ndblk);
        if (m_g.ufs2) {
            o.set(n.cg_niblk, m_g.ipg);
            o.set(n.cg_initediblk, std::min(o.u32(cg.cg_initediblk), m_g.ipg));
        } else {
            std::uint32_t ncyl = m_g.old_cpg;
            if (c == m_g.ncg - 1) {
                const std::uint32_t per_cyl = m_g.fpg / m_g.old_cpg;
                ncyl = !m_g.flags_updated ? o.u32(m_g.sb.fs_old_ncyl) % m_g.old_cpg
                       : per_cyl == 0     ? 0
                                          : (ndblk + per_cyl - 1) / per_cyl;
            }
            o.set(n.cg_old_ncyl, static_cast<std::uint16_t>(ncyl));
            o.set(n.cg_old_niblk, static_cast<std::uint16_t>(m_g.ipg));
            o.set(n.cg_old_btotoff, l.btotoff);
            o.set(n.cg_old_boff, l.boff);
        }
        if (m_g.contigsumsize > 0) {
            o.set(n.cg_nclusterblks, ndblk / m_g.frag);
            o.set(n.cg_clustersumoff, l.clustersumoff);
            o.set(n.cg_clusteroff, l.clusteroff);
        }
        o.set(n.cg_iusedoff, l.iusedoff);
        o.set(n.cg_freeoff, l.freeoff);
        o.set(n.cg_nextfreeoff, l.nextfreeoff);
        auto rotor = [&](const Raw32& r, std::uint32_t limit) {
            const auto v = static_cast<std::int32_t>(o.u32(r));
            return v >= 0 && static_cast<std::uint32_t>(v) < limit ? static_cast<std::uint32_t>(v)
                                                                   : 0u;
        };
        o.set(n.cg_rotor, rotor(cg.cg_rotor, ndblk));
        o.set(n.cg_frotor, rotor(cg.cg_frotor, ndblk));
        o.set(n.cg_irotor, rotor(cg.cg_irotor, m_g.ipg));

        // Inodes in use, as phases 1-4 found them.
        std::uint32_t ndir = 0, nifree = m_g.ipg, nbfree = 0, nffree = 0;
        std::uint32_t frsum[max_frag] = {};
        for (std::uint32_t i = 0; i < m_g.ipg; ++i) {
            const std::uint64_t ino = c * m_g.ipg + i;
            if (c == 0 && ino < root_ino) {
                setbit(newbuf, l.iusedoff, i);
                --nifree;
                continue;
            }
            switch (m_ino[ino].state) {
            case State::ustate: break;
            case State::dstate:
            case State::dfound:
            case State::dclear: ++ndir; [[fallthrough]];
            case State::fstate:
            case State::fclear:
                --nifree;
                setbit(newbuf, l.iusedoff, i);
                break;
            }
        }
        // Fragments free, whole blocks free, runs of free fragments, free clusters.
        for (std::uint64_t d = dbase, i = 0; d < dmax; d += m_g.frag, i += m_g.frag) {
            std::uint32_t frags = 0, run = 0;
            for (std::uint32_t j = 0; j < m_g.frag; ++j) {
                if (testbmap(d + j)) {
                    if (run > 0 && run < m_g.frag)
                        ++frsum[run];
                    run = 0;
                    continue;
                }
                setbit(newbuf, l.freeoff, i + j);
                ++frags;
                ++run;
            }
            if (frags == m_g.frag) {
                ++nbfree;
                if (sumsize != 0) {
                    const std::uint64_t sect = i << m_g.fsbtodb;
                    const std::uint64_t cyl = sect / m_g.old_spc;
                    const std::uint64_t rpos =
                        m_g.old_nrpos <= 1
                            ? 0
                            : (sect % m_g.old_spc / m_g.old_nsect * m_g.old_trackskew +
                               sect % m_g.old_spc % m_g.old_nsect * m_g.old_interleave) %
                                  m_g.old_nsect * m_g.old_nrpos / m_g.old_npsect;
                    if (cyl < m_g.old_cpg && rpos < m_g.old_nrpos) {
                        Raw32 t;
                        std::memcpy(&t, newbuf.data() + l.btotoff + cyl * 4, 4);
                        o.set(t, o.u32(t) + 1);
                        std::memcpy(newbuf.data() + l.btotoff + cyl * 4, &t, 4);
                        Raw16 b;
                        const std::uint64_t at = l.boff + (cyl * m_g.old_nrpos + rpos) * 2;
                        std::memcpy(&b, newbuf.data() + at, 2);
                        o.set(b, static_cast<std::uint16_t>(o.u16(b) + 1));
                        std::memcpy(newbuf.data() + at, &b, 2);
                    }
                }
                if (m_g.contigsumsize > 0)
                    setbit(newbuf, l.clusteroff, i / m_g.frag);
            } else if (frags > 0) {
                nffree += frags;
                if (run > 0)
                    ++frsum[run];
            }
        }
        if (m_g.contigsumsize > 0) {
            std::uint32_t sum[fs_maxcontig + 1] = {};
            std::uint32_t run = 0;
            const std::uint32_t nblk = ndblk / m_g.frag;
            for (std::uint32_t b = 0; b <= nblk; ++b) {
                const bool free =
                    b < nblk &&
                    (std::to_integer<unsigned>(newbuf[l.clusteroff + b / 8]) >> (b % 8)) & 1;
                if (free) {
                    ++run;
                } else if (run != 0) {
                    ++sum[std::min(run, m_g.contigsumsize)];
                    run = 0;
                }
            }
            // Slot 0 is never counted, and overlaps the free map's last bytes (the layout
            // rounds cg_clustersumoff down into it): leave it as the map wrote it.
            for (std::uint32_t k = 1; k <= m_g.contigsumsize; ++k) {
                Raw32 v;
                o.set(v, sum[k]);
                std::memcpy(newbuf.data() + l.clustersumoff + k * 4, &v, 4);
            }
        }
        o.set(n.cg_cs.cs_ndir, ndir);
        o.set(n.cg_cs.cs_nbfree, nbfree);
        o.set(n.cg_cs.cs_nifree, nifree);
        o.set(n.cg_cs.cs_nffree, nffree);
        for (std::uint32_t k = 0; k < max_frag; ++k)
            o.set(n.cg_frsum[k], frsum[k]);
        std::memcpy(newbuf.data(), &n, sizeof n);
        tot_ndir += ndir;
        tot_nbfree += nbfree;
        tot_nifree += nifree;
        tot_nffree += nffree;

        if (std::memcmp(cs_area.data() + c * sizeof(Csum), &n.cg_cs, sizeof(Csum)) != 0)
            counts_wrong();
        if ((std::memcmp(newbuf.data(), cgbuf.data(), basesize) != 0 ||
             std::memcmp(newbuf.data() + l.btotoff, cgbuf.data() + l.btotoff, sumsize) != 0) &&
            !told_summary) {
            told_summary = true;
            problem("SUMMARY INFORMATION BAD", "SUMMARY INFORMATION BAD", "SALVAGE");
        }
        if (std::memcmp(newbuf.data() + l.iusedoff, cgbuf.data() + l.iusedoff, mapsize) != 0 &&
            !told_maps) {
            told_maps = true;
            problem("BLK(S) MISSING IN BIT MAPS", "BLK(S) MISSING IN BIT MAPS", "SALVAGE");
        }
    }
    const CsumTotal& t = m_g.cstotal;
    if (o.u64(t.cs_ndir) != tot_ndir || o.u64(t.cs_nbfree) != tot_nbfree ||
        o.u64(t.cs_nifree) != tot_nifree || o.u64(t.cs_nffree) != tot_nffree)
        counts_wrong();
    return {};
}

}  // namespace uk::ffs::check
