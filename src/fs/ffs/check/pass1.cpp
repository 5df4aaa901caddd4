// Phase 1 (blocks and sizes) and 1b (the first owners of duplicate blocks). Facts: fsck_ffs
// pass1.c (checkinode, pass1check), pass1b.c and inode.c (ckinode, iblock, blkerror).
#include <cstring>

#include <fmt/format.h>

#include "fs/ffs/check/checker.hpp"

namespace uk::ffs::check {

namespace {

constexpr int maxbad = 10;  // MAXBAD: bad blocks per inode before fsck_ffs gives up
constexpr int maxdup = 10;  // MAXDUP

bool ftypeok(std::uint16_t mode) {
    switch (mode & ifmt) {
    case ifdir:
    case ifreg:
    case ifblk:
    case ifchr:
    case iflnk:
    case ifsock:
    case ififo: return true;
    default: return false;
    }
}

}  // namespace

Result<void> Checker::pass1() {
    // The boot area, superblock copies, cg headers, inode blocks and the summary area are in use.
    for (std::uint64_t c = 0; c < m_g.ncg; ++c) {
        std::uint64_t cgd = m_g.cgdmin(c);
        std::uint64_t i = c == 0 ? m_g.cgbase(c) : m_g.cgsblock(c);
        if (c == 0)
            cgd += (m_g.cssize + m_g.fsize - 1) / m_g.fsize;
        cgd = std::min<std::uint64_t>(cgd, m_g.size);
        for (; i < cgd; ++i)
            setbmap(i);
    }
    // The summary area may lie beyond cg 0's metadata (newfs puts it after the data start).
    for (std::uint64_t f = m_g.csaddr; f < m_g.csaddr + m_g.cssize / m_g.fsize; ++f)
        setbmap(f);

    std::vector<std::byte> cgbuf(m_g.cgsize), iblk;
    m_inosused_limit.assign(m_g.ncg, m_g.ipg);
    for (std::uint64_t c = 0; c < m_g.ncg; ++c) {
        UKFS_TRY(dev().read_at(m_g.bytes(m_g.cgtod(c)), cgbuf));
        CylinderGroup cg;
        std::memcpy(&cg, cgbuf.data(), sizeof cg);
        std::uint32_t inosused = m_g.ipg;
        // A group with a bad magic is reported in phase 5 ("CG n: PASS5: BAD MAGIC NUMBER"):
        // fsck_ffs' phase 1 says nothing of it outside preen with soft updates. Its
        // cg_initediblk is not trusted; every inode of the group is read.
        if (m_g.ufs2 && m_g.order.u32(cg.cg_magic) == cg_magic)
            inosused = std::min(m_g.order.u32(cg.cg_initediblk), m_g.ipg);
        m_inosused_limit[c] = inosused;
        for (std::uint32_t i = 0; i < inosused; ++i) {
            const std::uint64_t ino = c * m_g.ipg + i;
            if (ino < root_ino)
                continue;
            Inode di = UKFS_TRY(read_inode(ino));
            UKFS_TRY(pass1_inode(ino, di));
            if (m_abort)
                return {};
        }
    }
    return {};
}

Result<void> Checker::pass1_inode(std::uint64_t ino, const Inode& di) {
    InoInfo& info = m_ino[ino];
    const std::uint16_t mode = di.mode & ifmt;
    if (mode == 0) {
        if (!di.all_zero_pointers() || di.mode != 0 || di.size != 0)
            problem(fmt::format("PARTIALLY ALLOCATED INODE I={}", ino),
                    fmt::format("PARTIALLY ALLOCATED INODE I={}", ino), "CLEAR");
        info.state = State::ustate;
        return {};
    }
    m_lastino = ino;
    auto unknown = [&] {
        problem(fmt::format("UNKNOWN FILE TYPE I={}", ino),
                fmt::format("UNKNOWN FILE TYPE I={}", ino), "CLEAR");
        info.state = State::fclear;
        info.type = static_cast<std::uint8_t>(di.mode >> 12);
    };
    if (di.size > m_g.maxfilesize || di.size > (std::uint64_t{1} << 62)) {
        unknown();
        return {};
    }
    std::uint64_t ndb = (di.size + m_g.bsize - 1) / m_g.bsize;
    bool no_blocks = false;  // devices and short symlinks keep no blocks (ckinode skips them)
    if (mode == ifblk || mode == ifchr) {
        ++ndb;
        no_blocks = true;
    }
    if (mode == iflnk &&
        (di.size < m_g.maxsymlinklen || (m_g.maxsymlinklen == 0 && di.blocks == 0))) {
        no_blocks = true;
        ndb = (di.size + m_g.ptr_size() - 1) / m_g.ptr_size();
        if (ndb > ndaddr) {
            std::uint64_t j = ndb - ndaddr;
            for (ndb = 1; j > 1; --j)
                ndb *= m_g.nindir;
            ndb += ndaddr;
        }
    }
    for (std::uint64_t j = ndb; j < ndaddr; ++j)
        if (di.db[j] != 0) {
            unknown();
            return {};
        }
    std::uint32_t j = 0;
    for (std::uint64_t n = ndb > ndaddr ? ndb - ndaddr : 0; n > 0; ++j)
        n /= m_g.nindir;
    for (; j < niaddr; ++j)
        if (di.ib[j] != 0) {
            unknown();
            return {};
        }
    if (!ftypeok(di.mode)) {
        unknown();
        return {};
    }
    ++m_n_files;
    info.type = static_cast<std::uint8_t>(di.mode >> 12);
    if (mode == ifdir) {
        if (di.size == 0) {
            info.state = State::dclear;
            info.zero_length = true;
        } else {
            info.state = State::dstate;
        }
        m_dir_index[ino] = m_dirs.size();
        m_dirs.push_back(DirInfo{ino, 0, 0, di.size, {}});
    } else {
        info.state = State::fstate;
    }
    auto wrong_count = [&](std::uint64_t should) {
        problem(fmt::format("INCORRECT BLOCK COUNT I={} ({} should be {})", ino, di.blocks, should),
                fmt::format("INCORRECT BLOCK COUNT I={} ({} should be {})", ino, di.blocks, should),
                "CORRECT");
    };
    if (no_blocks) {  // ckinode counts nothing: any block count is wrong
        if (di.blocks != 0)
            wrong_count(0);
        else
            quota_count(ino, di, 0);
        return {};
    }

    std::uint64_t counted = 0;
    int badblk = 0, dupblk = 0;
    auto mark_clear = [&] { info.state = mode == ifdir ? State::dclear : State::fclear; };
    const bool snapshot = (di.flags & sf_snapshot) != 0;
    UKFS_TRY(walk_blocks(
        ino, di, true,
        [&](std::uint64_t blk, std::uint32_t nfrags, int level, std::uint64_t) -> Result<Walk> {
            // A snapshot's markers are no blocks: neither checked nor counted (fsck_ffs's SNAP
            // inodes). One in an indirect pointer is not followed.
            if (snapshot && (blk == blk_nocopy || blk == blk_snap))
                return level == 0 ? keepon : skip;
            const bool out = chkrange(blk, nfrags);
            if (out) {
                problem(fmt::format("{} BAD I={}", blk, ino), fmt::format("{} BAD I={}", blk, ino));
                mark_clear();
                if (++badblk >= maxbad) {
                    problem(fmt::format("EXCESSIVE BAD BLKS I={}", ino),
                            fmt::format("EXCESSIVE BAD BLKS I={}", ino), "CONTINUE");
                    m_abort = true;
                    return stop;
                }
            }
            for (std::uint64_t f = blk; f < blk + nfrags; ++f, ++counted) {
                if (out && chkrange(f, 1))
                    continue;
                if (!testbmap(f)) {
                    ++m_n_blks;
                    setbmap(f);
                    continue;
                }
                problem(fmt::format("{} DUP I={}", f, ino), fmt::format("{} DUP I={}", f, ino));
                mark_clear();
                info.reported_dup = true;
                if (m_dupmap.empty())
                    m_dupmap.assign(m_bmap.size(), 0);
                if (((m_dupmap[f >> 3] >> (f & 7)) & 1) == 0) {
                    m_dupmap[f >> 3] |= static_cast<std::uint8_t>(1u << (f & 7));
                    m_dups.push_back(f);
                }
                if (++dupblk >= maxdup) {
                    problem(fmt::format("EXCESSIVE DUP BLKS I={}", ino),
                            fmt::format("EXCESSIVE DUP BLKS I={}", ino), "CONTINUE");
                    m_abort = true;
                    return stop;
                }
            }
            return out ? skip : keepon;
        }));
    const std::uint64_t should = counted * (m_g.fsize / dev_bsize);
    if (!m_abort && di.blocks != should)
        wrong_count(should);
    else if (!m_abort)  // fsck_ffs counts usage after the block count is right (or corrected)
        quota_count(ino, di, should);
    return {};
}

// The inodes that claimed a duplicate fragment first were not told in phase 1: find them.
Result<void> Checker::pass1b() {
    std::vector<std::uint8_t> pending = m_dupmap;
    std::size_t left = m_dups.size();
    for (std::uint64_t ino = root_ino; ino <= m_lastino && left > 0; ++ino) {
        InoInfo& info = m_ino[ino];
        if (info.state == State::ustate)
            continue;
        const Inode di = UKFS_TRY(read_inode(ino));
        const std::uint16_t mode = di.mode & ifmt;
        if (mode == ifblk || mode == ifchr || mode == 0 ||
            (mode == iflnk &&
             (di.size < m_g.maxsymlinklen || (m_g.maxsymlinklen == 0 && di.blocks == 0))))
            continue;
        UKFS_TRY(walk_blocks(
            ino, di, false,
            [&](std::uint64_t blk, std::uint32_t nfrags, int, std::uint64_t) -> Result<Walk> {
                if (chkrange(blk, nfrags))
                    return skip;
                for (std::uint64_t f = blk; f < blk + nfrags && left > 0; ++f) {
                    if (((pending[f >> 3] >> (f & 7)) & 1) == 0)
                        continue;
                    pending[f >> 3] &= static_cast<std::uint8_t>(~(1u << (f & 7)));
                    --left;
                    problem(fmt::format("{} DUP I={}", f, ino), fmt::format("{} DUP I={}", f, ino));
                    info.state = mode == ifdir ? State::dclear : State::fclear;
                }
                return left > 0 ? keepon : stop;
            }));
    }
    return {};
}

}  // namespace uk::ffs::check
