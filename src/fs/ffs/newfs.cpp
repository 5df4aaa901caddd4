// Writing a new FFS (see newfs.hpp): the superblock and its copy in every cylinder group, each
// group's header with its maps, the inode blocks (all of them on UFS1; on UFS2 the first two
// blocks, as cg_initediblk says, the rest initialised lazily by the kernel), the summary area,
// and the root directory. Facts: NetBSD sbin/newfs/mkfs.c and usr.sbin/makefs/ffs/mkfs.c
// (initcg: which fragments are free, the map offsets, the old UFS1 fields), sys/ufs/ffs/fs.h.
#include "fs/ffs/newfs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "base/time.hpp"
#include "fs/ffs/format.hpp"
#include "fs/ffs/superblock.hpp"

namespace uk::ffs {

namespace {

constexpr std::uint64_t howmany(std::uint64_t x, std::uint64_t y) {
    return (x + y - 1) / y;
}

// Times: the option, else SOURCE_DATE_EPOCH (reproducible builds), else now.
std::uint64_t choose_time(const NewfsOptions& o) {
    if (o.time)
        return *o.time;
    if (const auto t = source_date_epoch(); t && *t >= 0)
        return static_cast<std::uint64_t>(*t);
    return static_cast<std::uint64_t>(std::time(nullptr));
}

// Everything the writer needs besides the layout.
struct Writer {
    io::BlockDevice& dev;
    const NewfsLayout& l;
    Order order;
    std::uint64_t limit;  // bytes of the file system: nothing is written at or past it
    std::mt19937_64 rng;

    std::uint32_t gen() { return static_cast<std::uint32_t>(rng() & 0x7fffffff); }

    Result<void> put(std::uint64_t offset, std::span<const std::byte> bytes) {
        if (offset > limit || bytes.size() > limit - offset)
            return Error::sys(EIO, fmt::format("ffs mkfs: internal error: a write of {} bytes at "
                                               "{} would pass the file system's end ({})",
                                               bytes.size(), offset, limit));
        return dev.write_at(offset, bytes);
    }
    std::uint64_t frag_bytes(std::uint64_t frag) const { return frag << l.fshift; }
};

void setbit(std::vector<std::byte>& map, std::size_t base, std::uint64_t bit) {
    map[base + bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
}
void clrbit(std::vector<std::byte>& map, std::size_t base, std::uint64_t bit) {
    map[base + bit / 8] &= static_cast<std::byte>(~(1u << (bit % 8)));
}
bool isset(const std::vector<std::byte>& map, std::size_t base, std::uint64_t bit) {
    return (std::to_integer<unsigned>(map[base + bit / 8]) >> (bit % 8) & 1u) != 0;
}

template <class T>
void store(std::vector<std::byte>& buf, std::size_t off, const T& v) {
    std::memcpy(buf.data() + off, &v, sizeof v);
}

// One cylinder group's header and maps (cgsize bytes) and its summary. `root_frag` is the
// cg-relative fragment given to the root directory (cg 0 only), `when` the time.
struct BuiltCg {
    std::vector<std::byte> bytes;
    Csum cs{};
};

BuiltCg build_cg(const NewfsLayout& l, Order o, std::uint32_t c, std::uint64_t when,
                 std::int64_t root_frag) {
    CylinderGroup cg{};
    const std::uint32_t ndblk = l.cg_ndblk(c);
    const std::uint32_t start = sizeof(CylinderGroup);
    o.set(cg.cg_magic, cg_magic);
    o.set(cg.cg_cgx, c);
    o.set(cg.cg_ndblk, ndblk);
    std::uint32_t iusedoff = start;
    if (l.ufs2) {
        o.set(cg.cg_time, when);
        o.set(cg.cg_niblk, l.ipg);
        o.set(cg.cg_initediblk, std::min(l.ipg, 2 * l.inopb));
    } else {
        const std::uint32_t ncyl =
            c == l.ncg - 1 ? static_cast<std::uint32_t>(howmany(ndblk, l.fpg / l.old_cpg))
                           : l.old_cpg;
        o.set(cg.cg_old_ncyl, static_cast<std::uint16_t>(ncyl));
        o.set(cg.cg_old_time, static_cast<std::uint32_t>(when));
        o.set(cg.cg_old_niblk, static_cast<std::uint16_t>(l.ipg));
        o.set(cg.cg_old_btotoff, start);
        o.set(cg.cg_old_boff, start + l.old_cpg * 4);
        iusedoff = start + l.old_cpg * 4 + l.old_cpg * 2;
    }
    const std::uint32_t freeoff = iusedoff + static_cast<std::uint32_t>(howmany(l.ipg, 8));
    std::uint32_t clustersumoff = 0, clusteroff = 0, nextfreeoff = 0;
    const std::uint32_t nclusterblks = ndblk >> l.fragshift;
    if (l.contigsumsize > 0) {
        clustersumoff = freeoff + static_cast<std::uint32_t>(howmany(l.fpg, 8)) - 4;
        clustersumoff = (clustersumoff + 3) & ~3u;
        clusteroff = clustersumoff + (l.contigsumsize + 1) * 4;
        nextfreeoff = clusteroff + static_cast<std::uint32_t>(howmany(l.fpg >> l.fragshift, 8));
        o.set(cg.cg_clustersumoff, clustersumoff);
        o.set(cg.cg_clusteroff, clusteroff);
        o.set(cg.cg_nclusterblks, nclusterblks);
    } else {
        nextfreeoff = freeoff + static_cast<std::uint32_t>(howmany(l.fpg, 8));
    }
    o.set(cg.cg_iusedoff, iusedoff);
    o.set(cg.cg_freeoff, freeoff);
    o.set(cg.cg_nextfreeoff, nextfreeoff);

    BuiltCg out;
    out.bytes.assign(l.cgsize, std::byte{0});  // nextfreeoff <= cgsize: CGSIZE counts the maps

    // Free fragments: in groups after the first, the space before the superblock copy; in all,
    // everything after the inodes (and, in group 0, after the summary area).
    const std::uint32_t dlower = l.sblkno;
    std::uint32_t dupper = l.dblkno;
    if (c == 0)
        dupper += static_cast<std::uint32_t>(howmany(l.cssize, l.fsize));
    if (c > 0)
        for (std::uint32_t d = 0; d < dlower; ++d)
            setbit(out.bytes, freeoff, d);
    for (std::uint32_t d = dupper; d < ndblk; ++d)
        setbit(out.bytes, freeoff, d);
    if (root_frag >= 0) {
        clrbit(out.bytes, freeoff, static_cast<std::uint64_t>(root_frag));
        // makefs finds the root's fragment with ffs_mapsearch, which leaves cg_frotor at the
        // first fragment of the map byte it found it in; where a fragment is a whole block it
        // comes through ffs_alloccgblk, which also sets cg_rotor to it.
        o.set(cg.cg_frotor, static_cast<std::uint32_t>(root_frag / 8 * 8));
        if (l.frag == 1)
            o.set(cg.cg_rotor, static_cast<std::uint32_t>(root_frag));
    }

    // Counts from the map: whole free blocks, and runs of free fragments in the others.
    std::uint32_t nbfree = 0, nffree = 0;
    std::uint32_t frsum[max_frag] = {};
    for (std::uint32_t b = 0; b * l.frag < ndblk; ++b) {
        const std::uint32_t first = b * l.frag;
        const std::uint32_t n = std::min(l.frag, ndblk - first);
        std::uint32_t nfree = 0;
        for (std::uint32_t i = 0; i < n; ++i)
            nfree += isset(out.bytes, freeoff, first + i) ? 1 : 0;
        if (n == l.frag && nfree == l.frag) {
            ++nbfree;
            if (l.contigsumsize > 0)
                setbit(out.bytes, clusteroff, b);
            continue;
        }
        nffree += nfree;
        std::uint32_t run = 0;
        for (std::uint32_t i = 0; i <= n; ++i) {
            if (i < n && isset(out.bytes, freeoff, first + i)) {
                ++run;
            } else if (run != 0) {
                ++frsum[run];
                run = 0;
            }
        }
    }
    for (std::uint32_t i = 1; i < l.frag; ++i)
        o.set(cg.cg_frsum[i], frsum[i]);
    if (l.contigsumsize > 0) {
        std::vector<std::uint32_t> sum(l.contigsumsize + 1, 0);
        std::uint32_t run = 0;
        for (std::uint32_t b = 0; b <= nclusterblks; ++b) {
            if (b < nclusterblks && isset(out.bytes, clusteroff, b)) {
                ++run;
            } else if (run != 0) {
                ++sum[std::min(run, l.contigsumsize)];
                run = 0;
            }
        }
        for (std::uint32_t i = 1; i <= l.contigsumsize; ++i) {
            Raw32 v;
            o.set(v, sum[i]);
            store(out.bytes, clustersumoff + i * 4, v);
        }
    }

    std::uint32_t nifree = l.ipg, ndir = 0;
    if (c == 0) {
        for (std::uint32_t i = 0; i <= root_ino; ++i)
            setbit(out.bytes, iusedoff, i);
        nifree -= root_ino + 1;
        ndir = 1;
    }
    o.set(out.cs.cs_ndir, ndir);
    o.set(out.cs.cs_nbfree, nbfree);
    o.set(out.cs.cs_nifree, nifree);
    o.set(out.cs.cs_nffree, nffree);
    cg.cg_cs = out.cs;
    std::memcpy(out.bytes.data(), &cg, sizeof cg);
    return out;
}

// The superblock's fields, with the totals found.
Superblock make_superblock(const NewfsLayout& l, Order o, const NewfsOptions& opts,
                           std::uint64_t when, std::uint32_t id1, const CsumTotal& total) {
    Superblock sb{};
    auto s32 = [&](Raw32& f, std::uint64_t v) { o.set(f, static_cast<std::uint32_t>(v)); };
    auto s64 = [&](Raw64& f, std::uint64_t v) { o.set(f, v); };
    s32(sb.fs_sblkno, l.sblkno);
    s32(sb.fs_cblkno, l.cblkno);
    s32(sb.fs_iblkno, l.iblkno);
    s32(sb.fs_dblkno, l.dblkno);
    s32(sb.fs_ncg, l.ncg);
    s32(sb.fs_bsize, l.bsize);
    s32(sb.fs_fsize, l.fsize);
    s32(sb.fs_frag, l.frag);
    s32(sb.fs_minfree, l.minfree);
    s32(sb.fs_bmask, ~std::uint32_t{l.bsize - 1});
    s32(sb.fs_fmask, ~std::uint32_t{l.fsize - 1});
    s32(sb.fs_bshift, l.bshift);
    s32(sb.fs_fshift, l.fshift);
    s32(sb.fs_maxcontig, l.maxcontig);
    s32(sb.fs_maxbpg, l.maxbpg);
    s32(sb.fs_fragshift, l.fragshift);
    s32(sb.fs_fsbtodb, l.fsbtodb);
    s32(sb.fs_sbsize, l.sbsize);
    s32(sb.fs_nindir, l.nindir);
    s32(sb.fs_inopb, l.inopb);
    s32(sb.fs_optim, l.optim);
    s32(sb.fs_id[0], when);
    s32(sb.fs_id[1], id1);
    s32(sb.fs_cssize, l.cssize);
    s32(sb.fs_cgsize, l.cgsize);
    s32(sb.fs_ipg, l.ipg);
    s32(sb.fs_fpg, l.fpg);
    sb.fs_clean = fs_isclean;
    sb.fs_old_flags = fs_flags_updated;
    std::memcpy(sb.fs_volname, opts.label.data(),
                std::min<std::size_t>(opts.label.size(), maxvollen - 1));
    s32(sb.fs_maxbsize, l.maxbsize);
    s64(sb.fs_sblockloc, l.sblockloc);
    sb.fs_cstotal = total;
    s64(sb.fs_time, when);
    s64(sb.fs_size, l.size);
    s64(sb.fs_dsize, l.dsize);
    s64(sb.fs_csaddr, l.csaddr);
    s32(sb.fs_avgfilesize, 16384);  // AVFILESIZ
    s32(sb.fs_avgfpdir, 64);        // AFPDIR
    s32(sb.fs_contigsumsize, l.contigsumsize);
    s32(sb.fs_maxsymlinklen, l.maxsymlinklen);
    s32(sb.fs_old_inodefmt, static_cast<std::uint32_t>(fs_44inodefmt));
    s64(sb.fs_maxfilesize, l.maxfilesize);
    s64(sb.fs_qbmask, l.bsize - 1);
    s64(sb.fs_qfmask, l.fsize - 1);
    // The old 32-bit totals, which makefs keeps on UFS2 too.
    s32(sb.fs_old_cstotal.cs_ndir, o.u64(total.cs_ndir));
    s32(sb.fs_old_cstotal.cs_nbfree, o.u64(total.cs_nbfree));
    s32(sb.fs_old_cstotal.cs_nifree, o.u64(total.cs_nifree));
    s32(sb.fs_old_cstotal.cs_nffree, o.u64(total.cs_nffree));
    if (l.ufs2) {
        s32(sb.fs_magic, ufs2_magic);
    } else {
        // The rotational fields UFS1 still carries, as makefs sets them: one "cylinder" per
        // group, no rotational delay, no cylinder-group offset.
        s32(sb.fs_magic, ufs1_magic);
        s32(sb.fs_old_cgmask, 0xffffffffu);
        s32(sb.fs_old_time, when);
        s32(sb.fs_old_size, l.size);
        s32(sb.fs_old_dsize, l.dsize);
        s32(sb.fs_old_rps, 60);
        s32(sb.fs_old_nspf, l.fsize / dev_bsize);
        s32(sb.fs_old_cpg, l.old_cpg);
        s32(sb.fs_old_interleave, 1);
        const std::uint64_t spc = std::uint64_t{l.fpg} * (l.fsize / dev_bsize);
        s32(sb.fs_old_spc, spc);
        s32(sb.fs_old_nsect, spc);
        s32(sb.fs_old_npsect, spc);
        s32(sb.fs_old_ncyl, l.ncg);
        s32(sb.fs_old_csaddr, l.csaddr);
        s32(sb.fs_old_postblformat, 1);
        s32(sb.fs_old_nrpos, 1);
    }
    return sb;
}

// The root inode (mode 0755, two links, one fragment holding '.' and '..'), placed in `block`
// (the first inode block of group 0).
void put_root_inode(std::vector<std::byte>& block, const NewfsLayout& l, Order o,
                    std::uint64_t when, std::uint64_t frag, std::uint32_t gen) {
    const std::size_t off = std::size_t{root_ino} * l.inode_size;
    const std::uint16_t mode = ifdir | 0755;
    const std::uint64_t blocks = l.fsize / dev_bsize;
    if (l.ufs2) {
        Dinode2 d{};
        o.set(d.di_mode, mode);
        o.set(d.di_nlink, std::uint16_t{2});
        o.set(d.di_size, std::uint64_t{dirblksiz});
        o.set(d.di_blocks, blocks);
        o.set(d.di_atime, when);
        o.set(d.di_mtime, when);
        o.set(d.di_ctime, when);
        o.set(d.di_birthtime, when);
        o.set(d.di_gen, gen);
        o.set(d.di_db[0], frag);
        std::memcpy(block.data() + off, &d, sizeof d);
    } else {
        Dinode1 d{};
        const auto t = static_cast<std::uint32_t>(when);
        o.set(d.di_mode, mode);
        o.set(d.di_nlink, std::uint16_t{2});
        o.set(d.di_size, std::uint64_t{dirblksiz});
        o.set(d.di_blocks, static_cast<std::uint32_t>(blocks));
        o.set(d.di_atime, t);
        o.set(d.di_mtime, t);
        o.set(d.di_ctime, t);
        o.set(d.di_gen, gen);
        o.set(d.di_db[0], static_cast<std::uint32_t>(frag));
        std::memcpy(block.data() + off, &d, sizeof d);
    }
}

// '.' and '..' in one DIRBLKSIZ chunk, at the start of a zeroed fragment.
std::vector<std::byte> root_dir_fragment(const NewfsLayout& l, Order o) {
    std::vector<std::byte> buf(l.fsize, std::byte{0});
    const std::uint16_t dot_len = static_cast<std::uint16_t>(dirsiz(1));
    DirectHeader dot{};
    o.set(dot.d_ino, root_ino);
    o.set(dot.d_reclen, dot_len);
    dot.d_type = dt_dir;
    dot.d_namlen = 1;
    std::memcpy(buf.data(), &dot, sizeof dot);
    buf[sizeof dot] = std::byte{'.'};
    DirectHeader dotdot{};
    o.set(dotdot.d_ino, root_ino);
    o.set(dotdot.d_reclen, static_cast<std::uint16_t>(dirblksiz - dot_len));
    dotdot.d_type = dt_dir;
    dotdot.d_namlen = 2;
    std::memcpy(buf.data() + dot_len, &dotdot, sizeof dotdot);
    buf[dot_len + sizeof dotdot] = std::byte{'.'};
    buf[dot_len + sizeof dotdot + 1] = std::byte{'.'};
    return buf;
}

// Wipe an old superblock where the driver would look before ours (another version's place),
// so the new file system is the one found.
Result<void> zap_old_superblocks(Writer& w) {
    for (const std::uint64_t at : sblock_search) {
        if (at == w.l.sblockloc || at < sblock_ufs1 || at + sblock_size > w.limit)
            continue;
        if (superblock_at(w.dev, at)) {
            const std::vector<std::byte> zeros(sblock_size, std::byte{0});
            UKFS_TRY(w.put(at, zeros));
        }
    }
    return {};
}

}  // namespace

Result<void> newfs(io::BlockDevice& dev, const NewfsOptions& opts) {
    if (dev.read_only())
        return Error::sys(EROFS, fmt::format("ffs mkfs: {} is read-only", dev.name()));
    const NewfsLayout l = UKFS_TRY(newfs_layout(opts, dev.size()));
    if (dev.sector_size() > l.fsize)
        return Error::sys(EINVAL, fmt::format("ffs mkfs: fsize={} is smaller than the device's "
                                              "sector ({})",
                                              l.fsize, dev.sector_size()));
    const std::uint64_t when = choose_time(opts);
    if (!l.ufs2 && when > 0x7fffffffu)
        return Error::sys(EINVAL, fmt::format("ffs mkfs: time={} does not fit UFS1's 32-bit "
                                              "times",
                                              when));
    const std::uint64_t seed = opts.seed ? *opts.seed : std::random_device{}();
    Writer w{dev, l, Order(opts.order), l.size << l.fshift, std::mt19937_64(seed)};
    if (w.limit > dev.size())
        return Error::sys(EIO, "ffs mkfs: internal error: layout larger than the device");
    const Order o = w.order;
    const std::uint32_t id1 = w.gen();

    UKFS_TRY(zap_old_superblocks(w));

    const std::uint64_t csfrags = howmany(l.cssize, l.fsize);
    const std::uint64_t root_frag = l.dblkno + csfrags;  // the first free fragment of group 0
    std::vector<std::byte> csum(l.cssize, std::byte{0});
    std::uint64_t tot_ndir = 0, tot_nbfree = 0, tot_nifree = 0, tot_nffree = 0;
    // Inode blocks written per group: UFS2 the initialised ones, UFS1 all.
    const std::uint32_t inode_blocks =
        l.ufs2 ? std::min(l.ipg, 2 * l.inopb) / l.inopb : l.ipg / l.inopb;
    std::vector<std::byte> iblock(l.bsize);
    for (std::uint32_t c = 0; c < l.ncg; ++c) {
        const BuiltCg cg =
            build_cg(l, o, c, when, c == 0 ? static_cast<std::int64_t>(root_frag) : -1);
        std::memcpy(csum.data() + std::size_t{c} * sizeof(Csum), &cg.cs, sizeof(Csum));
        tot_ndir += o.u32(cg.cs.cs_ndir);
        tot_nbfree += o.u32(cg.cs.cs_nbfree);
        tot_nifree += o.u32(cg.cs.cs_nifree);
        tot_nffree += o.u32(cg.cs.cs_nffree);
        // The header in a zeroed block.
        std::vector<std::byte> cgblock(l.bsize, std::byte{0});
        std::memcpy(cgblock.data(), cg.bytes.data(), cg.bytes.size());
        const std::uint64_t base = l.cgbase(c);
        UKFS_TRY(w.put(w.frag_bytes(base + l.cblkno), cgblock));
        for (std::uint32_t b = 0; b < inode_blocks; ++b) {
            std::fill(iblock.begin(), iblock.end(), std::byte{0});
            for (std::uint32_t i = 0; i < l.inopb; ++i) {
                Raw32 g;
                o.set(g, w.gen());
                const std::size_t gen_off =
                    l.ufs2 ? offsetof(Dinode2, di_gen) : offsetof(Dinode1, di_gen);
                std::memcpy(iblock.data() + std::size_t{i} * l.inode_size + gen_off, &g, sizeof g);
            }
            if (c == 0 && b == 0)
                put_root_inode(iblock, l, o, when, root_frag, w.gen());
            UKFS_TRY(w.put(w.frag_bytes(base + l.iblkno + std::uint64_t{b} * l.frag), iblock));
        }
    }
    UKFS_TRY(w.put(w.frag_bytes(root_frag), root_dir_fragment(l, o)));
    UKFS_TRY(w.put(w.frag_bytes(l.csaddr), csum));

    CsumTotal total{};
    o.set(total.cs_ndir, tot_ndir);
    o.set(total.cs_nbfree, tot_nbfree);
    o.set(total.cs_nifree, tot_nifree);
    o.set(total.cs_nffree, tot_nffree);
    const Superblock sb = make_superblock(l, o, opts, when, id1, total);
    // The superblock, zero-padded to the space between a group's superblock copy and its
    // header, at its place and at each group's copy.
    std::vector<std::byte> sbbuf(std::size_t{l.cblkno - l.sblkno} << l.fshift, std::byte{0});
    std::memcpy(sbbuf.data(), &sb, sizeof sb);
    UKFS_TRY(w.put(l.sblockloc, std::span(sbbuf).first(sblock_size)));
    for (std::uint32_t c = 0; c < l.ncg; ++c)
        UKFS_TRY(w.put(w.frag_bytes(l.cgbase(c) + l.sblkno), sbbuf));
    return dev.flush();
}

}  // namespace uk::ffs
