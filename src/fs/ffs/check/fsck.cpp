// The checker's driver: setup (superblock, summary area), the phases in fsck_ffs' order, the
// output helpers and the block walk every phase shares. Facts: NetBSD sbin/fsck_ffs (main.c,
// setup.c, inode.c, utilities.c) and fsck_ffs(8); the code is ours.
#include <algorithm>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "fs/ffs/check/checker.hpp"

namespace uk::ffs::check {

bool CheckResult::reported(std::string_view message) const {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.starts_with(message); });
}

bool Inode::all_zero_pointers() const {
    return std::all_of(std::begin(db), std::end(db), [](auto v) { return v == 0; }) &&
           std::all_of(std::begin(ib), std::end(ib), [](auto v) { return v == 0; });
}

void Checker::say(std::string_view text) {
    if (!m_out)
        return;
    if (m_opts.preen)
        m_out(fmt::format("{}: {}", dev().name(), text));
    else
        m_out(text);
}

void Checker::problem(std::string line, std::string_view text, std::string_view question) {
    m_result.exit_code = exit_check_failed;
    if (question.empty())
        say(fmt::format("{}\n", text));
    else
        say(fmt::format("{}\n{}? no\n\n", text, question));
    m_result.problems.push_back(std::move(line));
}

// fsck_ffs' pinode(): the inode number, owner, mode, size and modification time.
std::string Checker::pinode(std::uint64_t ino) {
    std::string s = fmt::format(" I={} ", ino);
    if (ino < root_ino || ino >= m_g.maxino())
        return s;
    auto di = read_inode(ino);
    if (!di)
        return s;
    const std::time_t t = static_cast<std::time_t>(di->mtime);
    std::tm tm{};
    char when[32] = "?";
    if (gmtime_r(&t, &tm) != nullptr)
        std::strftime(when, sizeof when, "%b %e %H:%M %Y", &tm);
    return s +
           fmt::format(" OWNER={} MODE={:o}\nSIZE={} MTIME={} ", di->uid, di->mode, di->size, when);
}

// The path of a directory, from the names its entries were found under.
std::string Checker::pathname(std::uint64_t dir_ino) const {
    if (dir_ino == root_ino)
        return "/";
    std::vector<std::string_view> parts;
    std::uint64_t cur = dir_ino;
    for (std::size_t guard = 0; cur != root_ino && guard <= m_dirs.size(); ++guard) {
        auto it = m_dir_index.find(cur);
        if (it == m_dir_index.end() || m_dirs[it->second].parent == 0)
            return parts.empty()
                       ? "?"
                       : fmt::format("?/{}", fmt::join(parts.rbegin(), parts.rend(), "/"));
        parts.push_back(m_dirs[it->second].name);
        cur = m_dirs[it->second].parent;
    }
    if (cur != root_ino)
        return "?";
    std::string path;
    for (auto p = parts.rbegin(); p != parts.rend(); ++p)
        path += fmt::format("/{}", *p);
    return path;
}

// fsck_ffs' fileerror(): the problem and the inode (pinode), then the name the entry has, as
// DIR= or FILE= by the inode's mode (NAME= when the number is out of range or the type is
// unknown). The message ends in a newline, so reply()'s own leaves a blank line before the
// question.
void Checker::fileerror(std::uint64_t dir, std::uint64_t ino, std::string_view name,
                        std::string_view msg, std::string_view question) {
    std::string path = pathname(dir);
    if (!name.empty())
        path = path == "/" ? fmt::format("/{}", name) : fmt::format("{}/{}", path, name);
    std::string kind = "NAME";
    if (ino >= root_ino && ino < m_g.maxino()) {
        if (auto di = read_inode(ino)) {
            switch (di->mode & ifmt) {
            case ifdir: kind = "DIR"; break;
            case ifreg:
            case ifblk:
            case ifchr:
            case iflnk:
            case ifsock:
            case ififo: kind = "FILE"; break;
            default: break;
            }
        }
    }
    const std::string text = fmt::format("{} {}\n{}={}\n", msg, pinode(ino), kind, path);
    problem(fmt::format("{} I={} NAME={}", msg, ino, path), text, question);
}

Result<void> Checker::read_frags(std::uint64_t frag_no, std::uint64_t count,
                                 std::vector<std::byte>& b) {
    b.resize(count * m_g.fsize);
    return dev().read_at(m_g.bytes(frag_no), b);
}

Result<Inode> Checker::read_inode(std::uint64_t ino) {
    std::byte raw[256];
    const std::uint32_t isz = m_g.inode_size();
    UKFS_TRY(dev().read_at(m_g.bytes(m_g.ino_block(ino)) + m_g.ino_offset(ino),
                           std::span<std::byte>(raw, isz)));
    const Order& o = m_g.order;
    Inode in;
    if (m_g.ufs2) {
        Dinode2 d;
        std::memcpy(&d, raw, sizeof d);
        in.mode = o.u16(d.di_mode);
        in.nlink = static_cast<std::int16_t>(o.u16(d.di_nlink));
        in.uid = o.u32(d.di_uid);
        in.gid = o.u32(d.di_gid);
        in.flags = o.u32(d.di_flags);
        in.size = o.u64(d.di_size);
        in.blocks = o.u64(d.di_blocks);
        in.mtime = static_cast<std::int64_t>(o.u64(d.di_mtime));
        in.extsize = o.u32(d.di_extsize);
        for (std::uint32_t i = 0; i < ndaddr; ++i)
            in.db[i] = o.u64(d.di_db[i]);
        for (std::uint32_t i = 0; i < niaddr; ++i)
            in.ib[i] = o.u64(d.di_ib[i]);
        for (std::uint32_t i = 0; i < nxaddr; ++i)
            in.extb[i] = o.u64(d.di_extb[i]);
    } else {
        Dinode1 d;
        std::memcpy(&d, raw, sizeof d);
        in.mode = o.u16(d.di_mode);
        in.nlink = static_cast<std::int16_t>(o.u16(d.di_nlink));
        in.uid = o.u32(d.di_uid);
        in.gid = o.u32(d.di_gid);
        in.flags = o.u32(d.di_flags);
        in.size = o.u64(d.di_size);
        in.blocks = o.u32(d.di_blocks);
        in.mtime = static_cast<std::int32_t>(o.u32(d.di_mtime));
        // UFS1 block pointers are signed 32-bit; a negative one is out of range, kept as huge.
        auto p = [&](const Raw32& r) {
            const auto v = static_cast<std::int32_t>(o.u32(r));
            return v < 0 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(v);
        };
        for (std::uint32_t i = 0; i < ndaddr; ++i)
            in.db[i] = p(d.di_db[i]);
        for (std::uint32_t i = 0; i < niaddr; ++i)
            in.ib[i] = p(d.di_ib[i]);
    }
    return in;
}

bool Checker::chkrange(std::uint64_t blk, std::uint64_t cnt) const {
    const std::uint64_t maxfsblock = m_g.size;
    if (cnt == 0 || blk == 0 || blk >= maxfsblock || cnt - 1 > maxfsblock - 1 - blk)
        return true;
    if (cnt > m_g.frag || blk % m_g.frag + cnt > m_g.frag)
        return true;
    const std::uint64_t c = m_g.dtog(blk);
    if (blk < m_g.cgdmin(c))
        return blk + cnt > m_g.cgsblock(c);
    return blk + cnt > m_g.cgbase(c + 1);
}

Result<void> Checker::walk_blocks(std::uint64_t ino, const Inode& di, bool check_truncated,
                                  const BlockFn& fn) {
    const std::uint64_t bsize = m_g.bsize;
    auto run = [&](const std::uint64_t* ptrs, std::uint32_t n, std::uint64_t size,
                   std::uint64_t lbn0) -> Result<bool> {
        std::uint64_t ndb = (size + bsize - 1) / bsize;
        for (std::uint32_t i = 0; i < n; ++i) {
            std::uint32_t nfrags = m_g.frag;
            if (ndb > 0 && --ndb == 0 && size % bsize != 0)
                nfrags = static_cast<std::uint32_t>(m_g.fragroundup(size % bsize) / m_g.fsize);
            if (ptrs[i] == 0)
                continue;
            if (UKFS_TRY(fn(ptrs[i], nfrags, 0, lbn0 + i)) == stop)
                return false;
        }
        return true;
    };
    if (m_g.ufs2 && di.extsize > 0 && !UKFS_TRY(run(di.extb, nxaddr, di.extsize, ext_lbn)))
        return {};
    if (!UKFS_TRY(run(di.db, ndaddr, di.size, 0)))
        return {};
    // Sizes were checked against fs_maxfilesize (< 2^62) before any walk.
    std::int64_t remsize =
        static_cast<std::int64_t>(di.size) - static_cast<std::int64_t>(bsize * ndaddr);
    std::uint64_t sizepb = bsize, lbn = ndaddr, span = 1;
    for (std::uint32_t n = 0; n < niaddr; ++n) {
        sizepb = std::min<std::uint64_t>(sizepb * m_g.nindir, std::uint64_t{1} << 62);
        span *= m_g.nindir;
        if (di.ib[n] != 0) {
            const auto rem = static_cast<std::uint64_t>(std::max<std::int64_t>(remsize, 0));
            if (!UKFS_TRY(walk_indirect(ino, di.ib[n], static_cast<int>(n) + 1, lbn, rem,
                                        check_truncated, fn)))
                return {};
        }
        remsize -= static_cast<std::int64_t>(sizepb);
        lbn += span;
    }
    return {};
}

Result<bool> Checker::walk_indirect(std::uint64_t ino, std::uint64_t blk, int level,
                                    std::uint64_t lbn, std::uint64_t remsize, bool check_truncated,
                                    const BlockFn& fn) {
    const Walk w = UKFS_TRY(fn(blk, m_g.frag, level, 0));
    if (w == stop)
        return false;
    if (w == skip || chkrange(blk, m_g.frag))
        return true;
    std::vector<std::byte> buf;
    UKFS_TRY(read_frags(blk, m_g.frag, buf));
    std::uint64_t sizepb = m_g.bsize, span = 1;
    for (int i = 1; i < level; ++i) {
        sizepb *= m_g.nindir;
        span *= m_g.nindir;
    }
    const std::uint64_t nindir = m_g.nindir;
    const std::uint64_t nif = remsize / sizepb >= nindir ? nindir : (remsize + sizepb - 1) / sizepb;
    auto ptr = [&](std::uint64_t i) -> std::uint64_t {
        if (m_g.ufs2) {
            Raw64 r;
            std::memcpy(&r, buf.data() + i * 8, 8);
            return m_g.order.u64(r);
        }
        Raw32 r;
        std::memcpy(&r, buf.data() + i * 4, 4);
        const auto v = static_cast<std::int32_t>(m_g.order.u32(r));
        return v < 0 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(v);
    };
    if (check_truncated) {
        for (std::uint64_t i = nif; i < nindir; ++i) {
            if (ptr(i) != 0) {
                problem(fmt::format("PARTIALLY TRUNCATED INODE I={}", ino),
                        fmt::format("PARTIALLY TRUNCATED INODE I={}", ino), "SALVAGE");
                break;
            }
        }
    }
    for (std::uint64_t i = 0; i < nif; ++i) {
        const std::uint64_t p = ptr(i);
        if (p != 0) {
            if (level == 1) {
                if (UKFS_TRY(fn(p, m_g.frag, 0, lbn + i)) == stop)
                    return false;
            } else if (!UKFS_TRY(walk_indirect(ino, p, level - 1, lbn + i * span, remsize,
                                               check_truncated, fn))) {
                return false;
            }
        }
        remsize = remsize > sizepb ? remsize - sizepb : 0;
    }
    return true;
}

Result<bool> Checker::setup() {
    std::string why;
    auto found = UKFS_TRY(find_superblock(m_raw, why));
    if (!found) {
        problem(fmt::format("BAD SUPER BLOCK: {}", why), fmt::format("BAD SUPER BLOCK: {}", why));
        say("/dev/null: CANNOT FIGURE OUT FILE SYSTEM PARTITION\n");
        return false;
    }
    m_g = std::move(*found);
    if (!m_opts.preen)
        say(fmt::format("** {} (NO WRITE)\n", m_raw.name()));
    bool journaled = false;
    if (!UKFS_TRY(check_wapbl(journaled)))
        return false;
    if (m_opts.preen && journaled) {
        say("file system is journaled; not checking\n");
        return false;
    }
    if (m_opts.preen && (m_g.clean & fs_isclean) != 0) {
        say("file system is clean; not checking\n");
        return false;
    }
    if (m_opts.preen)
        say(fmt::format("** {} (NO WRITE)\n", m_raw.name()));
    // As fsck_ffs: the superblock stays the one on disk, every later read sees the log replayed.
    if (journaled)
        say("** File system is journaled; replaying journal\n");
    if (!m_g.last_mounted.empty())
        say(fmt::format("** Last Mounted on {}\n", m_g.last_mounted));
    // The first alternate fsck_ffs compares is the one in the last cylinder group (read before
    // the journal, as fsck_ffs' readsb()).
    Superblock alt;
    UKFS_TRY(m_raw.read_at(m_g.bytes(m_g.cgsblock(m_g.ncg - 1)),
                           std::span<std::byte>(reinterpret_cast<std::byte*>(&alt), sizeof alt)));
    if (!alternate_matches(m_g, alt))
        problem("BAD SUPER BLOCK: VALUES IN SUPER BLOCK DISAGREE WITH THOSE IN FIRST ALTERNATE",
                "BAD SUPER BLOCK: VALUES IN SUPER BLOCK DISAGREE WITH THOSE IN FIRST ALTERNATE");
    if (!quota_setup())
        return false;
    for (std::string& w : superblock_warnings(m_g))
        problem(w, w, "FIX");
    // Bounded by validation: fs_size fragments fit the device, inodes live inside it.
    const std::uint64_t bits = (m_g.size + m_g.frag - 1) / m_g.frag * m_g.frag;
    m_bmap.assign(bits / 8 + 1, 0);
    m_ino.assign(m_g.maxino(), InoInfo{});
    return true;
}

Result<CheckResult> Checker::run() {
    if (!UKFS_TRY(setup()))
        return std::move(m_result);
    say("** Phase 1 - Check Blocks and Sizes\n");
    UKFS_TRY(pass1());
    if (m_abort)  // fsck_ffs -n stops at "CONTINUE? no"
        return std::move(m_result);
    if (!m_dups.empty()) {
        say("\n** Phase 1b - Rescan For More DUPS\n");
        UKFS_TRY(pass1b());
    }
    say("** Phase 2 - Check Pathnames\n");
    if (!UKFS_TRY(pass2()))
        return std::move(m_result);
    say("** Phase 3 - Check Connectivity\n");
    pass3();
    say("** Phase 4 - Check Reference Counts\n");
    UKFS_TRY(pass4());
    say("** Phase 5 - Check Cyl groups\n");
    UKFS_TRY(pass5());
    if ((fs_flags() & fs_doquota2) != 0) {
        say("** Phase 6 - Check Quotas\n");
        UKFS_TRY(pass6());
        if (m_abort)
            return std::move(m_result);
    }

    // The summary, from the superblock's totals as fsck_ffs prints them.
    const Order& o = m_g.order;
    const std::uint64_t n_ffree = o.u64(m_g.cstotal.cs_nffree);
    const std::uint64_t n_bfree = o.u64(m_g.cstotal.cs_nbfree);
    std::uint64_t used = m_n_blks;
    used += std::uint64_t{m_g.ncg} * (m_g.cgdmin(0) - m_g.cgsblock(0));
    used += m_g.cgsblock(0) - m_g.cgbase(0);
    used += (m_g.cssize + m_g.fsize - 1) / m_g.fsize;
    const std::uint64_t dsize = std::max<std::uint64_t>(m_g.dsize, 1);
    m_result.summary_line =
        fmt::format("{} files, {} used, {} free ({} frags, {} blocks, {}.{}% fragmentation)",
                    m_n_files, used, n_ffree + std::uint64_t{m_g.frag} * n_bfree, n_ffree, n_bfree,
                    n_ffree * 100 / dsize, (n_ffree * 1000 + dsize / 2) / dsize % 10);
    say(m_result.summary_line + "\n");
    if (m_result.exit_code != exit_ok)
        say("\n***** FILE SYSTEM WAS NOT MODIFIED *****\n");
    return std::move(m_result);
}

Result<CheckResult> check(io::BlockDevice& dev, const CheckOptions& options,
                          std::function<void(std::string_view)> out) {
    Checker c(dev, options, std::move(out));
    return c.run();
}

}  // namespace uk::ffs::check
