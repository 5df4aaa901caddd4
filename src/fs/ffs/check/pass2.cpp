// Phase 2 (pathnames): every directory block's entries, '.' and '..', entries naming free or
// cleared inodes, d_type against the inode. Facts: fsck_ffs pass2.c (pass2, pass2check) and
// dir.c (dirscan, fsck_readdir, dircheck).
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "fs/ffs/check/checker.hpp"

namespace uk::ffs::check {

namespace {

constexpr std::uint64_t mindirsize = 24;  // dirsiz(1) + dirsiz(2): '.' and '..'

}  // namespace

Result<bool> Checker::pass2() {
    if (root_ino >= m_ino.size()) {
        problem("ROOT INODE UNALLOCATED", "ROOT INODE UNALLOCATED", "ALLOCATE");
        return false;
    }
    switch (m_ino[root_ino].state) {
    case State::ustate:
        problem("ROOT INODE UNALLOCATED", "ROOT INODE UNALLOCATED", "ALLOCATE");
        return false;
    case State::dclear:
        problem("DUPS/BAD IN ROOT INODE", "DUPS/BAD IN ROOT INODE", "REALLOCATE");
        return false;
    case State::fstate:
    case State::fclear:
        problem("ROOT INODE NOT DIRECTORY", "ROOT INODE NOT DIRECTORY", "REALLOCATE");
        return false;
    case State::dstate:
    case State::dfound: break;
    }
    m_ino[root_ino].state = State::dfound;
    DirInfo& root = m_dirs[m_dir_index.at(root_ino)];
    root.parent = root.dotdot = root_ino;

    for (std::size_t i = 0; i < m_dirs.size(); ++i) {
        DirInfo& dir = m_dirs[i];
        const State st = m_ino[dir.ino].state;
        if (st != State::dstate && st != State::dfound)
            continue;
        if (dir.size < mindirsize) {
            fileerror(dir.ino, dir.ino, {}, "DIRECTORY TOO SHORT", "FIX");
        } else if (dir.size % dirblksiz != 0) {
            const std::string msg = fmt::format("DIRECTORY {}: LENGTH {} NOT MULTIPLE OF {}",
                                                pathname(dir.ino), dir.size, dirblksiz);
            problem(msg, msg, "ADJUST");
        }
        UKFS_TRY(pass2_dir(m_dirs[i]));
    }

    // A '..' that does not name the directory holding the entry.
    for (DirInfo& dir : m_dirs) {
        if (dir.parent == 0 || dir.size == 0 || dir.dotdot == dir.parent)
            continue;
        if (dir.dotdot == 0) {
            if (!dir.missing_dotdot_told)
                fileerror(dir.parent, dir.ino, dir.name, "MISSING '..'", "FIX");
            continue;
        }
        fileerror(dir.parent, dir.ino, dir.name, "BAD INODE NUMBER FOR '..'", "FIX");
    }
    return true;
}

Result<void> Checker::pass2_dir(DirInfo& dir) {
    const Inode di = UKFS_TRY(read_inode(dir.ino));
    std::vector<std::byte> buf;
    std::uint64_t entryno = 0;
    const std::uint64_t dir_ino = dir.ino;
    const std::uint64_t dir_size = di.size;
    auto scan = [&](std::uint64_t blk, std::uint32_t nfrags, int level,
                    std::uint64_t lbn) -> Result<Walk> {
        if (level != 0 || lbn == ext_lbn || chkrange(blk, nfrags))
            return keepon;
        UKFS_TRY(read_frags(blk, nfrags, buf));
        const std::uint64_t base = lbn * m_g.bsize;
        for (std::uint64_t chunk = 0; chunk + dirblksiz <= buf.size(); chunk += dirblksiz) {
            if (base + chunk >= dir_size)
                break;
            const std::byte* p = buf.data() + chunk;
            std::uint32_t loc = 0;
            while (loc < dirblksiz) {
                const std::uint32_t spaceleft = dirblksiz - loc;
                bool bad = spaceleft < sizeof(DirectHeader);
                DirectHeader h{};
                std::uint32_t ino = 0, reclen = 0, namlen = 0;
                std::uint8_t type = 0;
                if (!bad) {
                    std::memcpy(&h, p + loc, sizeof h);
                    ino = m_g.order.u32(h.d_ino);
                    reclen = m_g.order.u16(h.d_reclen);
                    if (m_g.newinofmt()) {
                        type = h.d_type;
                        namlen = h.d_namlen;
                    } else {
                        Raw16 n;
                        std::memcpy(&n, &h.d_type, 2);
                        namlen = m_g.order.u16(n);
                    }
                    bad =
                        ino >= m_g.maxino() || reclen == 0 || reclen > spaceleft || reclen % 4 != 0;
                }
                std::string_view name;
                if (!bad && ino != 0) {
                    bad = reclen < dirsiz(namlen) || namlen == 0 || namlen > maxnamlen || type > 15;
                    if (!bad) {
                        name = std::string_view(reinterpret_cast<const char*>(p + loc + 8), namlen);
                        bad = name.find('\0') != std::string_view::npos ||
                              name.find('/') != std::string_view::npos ||
                              p[loc + 8 + namlen] != std::byte{0};
                    }
                }
                if (bad) {
                    fileerror(dir_ino, dir_ino, {}, "DIRECTORY CORRUPTED", "SALVAGE");
                    break;
                }
                pass2_entry(m_dirs[m_dir_index.at(dir_ino)], entryno, ino, type, name);
                if (ino != 0 || entryno < 2)
                    ++entryno;
                loc += reclen;
            }
        }
        return keepon;
    };
    return walk_blocks(dir.ino, di, false, scan);
}

void Checker::pass2_entry(DirInfo& dir, std::uint64_t entryno, std::uint64_t ino, std::uint8_t type,
                          std::string_view name) {
    const bool newfmt = m_g.newinofmt();
    if (entryno == 0) {
        if (ino != 0 && name == ".") {
            if (ino != dir.ino)
                fileerror(dir.ino, dir.ino, {}, "BAD INODE NUMBER FOR '.'", "FIX");
            if (newfmt && type != dt_dir)
                fileerror(dir.ino, dir.ino, {}, "BAD TYPE VALUE FOR '.'", "FIX");
            if (ino < m_ino.size())
                ++m_ino[ino].refs;
            return;
        }
        fileerror(dir.ino, dir.ino, {}, "MISSING '.'", "FIX");
        // Unfixed, the entry is looked at as the '..' slot (fsck_ffs' chk1).
        entryno = 1;
    }
    if (entryno == 1) {
        if (ino != 0 && name == "..") {
            dir.dotdot = ino;
            if (newfmt && type != dt_dir)
                fileerror(dir.ino, dir.ino, {}, "BAD TYPE VALUE FOR '..'", "FIX");
        } else {
            fileerror(dir.parent, dir.ino, dir.name, "MISSING '..'", "FIX");
            dir.missing_dotdot_told = true;
        }
    }
    if (ino == 0)
        return;
    if (entryno >= 2 && (name == "." || name == "..")) {
        fileerror(dir.ino, dir.ino, {}, name == "." ? "EXTRA '.' ENTRY" : "EXTRA '..' ENTRY",
                  "FIX");
        return;
    }
    const std::uint64_t counted = entryno + 1;  // fsck_ffs' id_entryno after this entry
    if (ino >= m_g.maxino() || (ino < root_ino && ino != wino)) {
        fileerror(dir.ino, ino, name, "I OUT OF RANGE", "REMOVE");
        return;
    }
    if (ino == wino) {
        if (type != dt_wht)
            fileerror(dir.ino, ino, name, "BAD WHITEOUT ENTRY", "FIX");
        return;
    }
    InoInfo& info = m_ino[ino];
    switch (info.state) {
    case State::ustate:
        if (counted <= 2)
            return;
        fileerror(dir.ino, ino, name, "UNALLOCATED", "REMOVE");
        return;
    case State::dclear:
    case State::fclear:
        if (counted <= 2)
            return;
        fileerror(dir.ino, ino, name,
                  info.state == State::fclear ? "DUP/BAD" : "ZERO LENGTH DIRECTORY", "REMOVE");
        // Not removed: fsck_ffs takes the inode back as it is and looks at the entry again.
        // (A directory phase 1 could not take, for its type or size, has no directory record:
        // it comes back as a file.)
        info.state =
            info.type == dt_dir && m_dir_index.contains(ino) ? State::dstate : State::fstate;
        info.refs = 0;
        pass2_entry(dir, entryno, ino, type, name);
        return;
    case State::dstate:
    case State::dfound: {
        DirInfo& child = m_dirs[m_dir_index.at(ino)];
        if (child.parent != 0 && counted > 2) {
            const std::string here = dir.ino == root_ino ? "" : pathname(dir.ino);
            const std::string msg = fmt::format("{}/{} IS AN EXTRANEOUS HARD LINK TO DIRECTORY {}",
                                                here, name, pathname(ino));
            problem(msg, msg, "REMOVE");
        }
        if (counted > 2) {
            child.parent = dir.ino;
            child.name = std::string(name);
        }
        [[fallthrough]];
    }
    case State::fstate:
        if (newfmt && type != info.type)
            fileerror(dir.ino, ino, name, "BAD TYPE VALUE", "FIX");
        break;
    }
    ++info.refs;
}

}  // namespace uk::ffs::check
