// Directories: walking records, names, lookup, readdir (see fs.hpp).
//
// Names follow NetBSD's isofntrans: plain ISO 9660 names lose their version (";1") and a dot
// just before it unless ISOFSMNT_GENS, upper case becomes lower unless ISOFSMNT_NOCASETRANS,
// and an associated file gets a leading '='; Joliet names are UCS-2 (big-endian), shown as
// UTF-8 with the version cut the same way and case kept; Rock Ridge names come from NM (the
// plain rules apply when a record has none). Several versions of one name show once: ISO 9660
// sorts the highest first and that is the one kept, as NetBSD's iso_shipdir does. Lookups of
// plain names ignore case (NetBSD's isofncmp); Joliet and Rock Ridge ones match exactly, or
// ignoring case with ISOFSMNT_RRCASEINS.
//
// Cookies are byte offsets of records in the directory's data.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/stat.h>

#include <fmt/format.h>

#include "base/utf8.hpp"
#include "fs/cd9660/fs.hpp"

namespace uk::cd9660 {

namespace {

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

// Cut a version suffix: everything from ';', and a '.' just before it.
void cut_version(std::string& name, std::size_t semicolon) {
    name.resize(semicolon);
    if (!name.empty() && name.back() == '.')
        name.pop_back();
}

}  // namespace

std::string IsoFs::translate(const Record& r) const {
    std::string out;
    if ((r.flags & flag_associated) != 0)
        out += '=';
    const std::size_t start = out.size();
    std::size_t semicolon = std::string::npos;
    if (m_tree == Tree::joliet) {
        for (std::size_t i = 0; i + 1 < r.name.size(); i += 2) {
            std::uint32_t c = (static_cast<std::uint32_t>(r.name[i]) << 8) |
                              static_cast<std::uint32_t>(r.name[i + 1]);
            if (c >= 0xD800 && c < 0xDC00 && i + 3 < r.name.size()) {
                const std::uint32_t lo = (static_cast<std::uint32_t>(r.name[i + 2]) << 8) |
                                         static_cast<std::uint32_t>(r.name[i + 3]);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
            if (c == ';' && semicolon == std::string::npos)
                semicolon = out.size();
            append_utf8(out, c);
        }
    } else {
        for (const std::byte b : r.name) {
            char c = static_cast<char>(b);
            if (c == ';' && semicolon == std::string::npos)
                semicolon = out.size();
            if (m_rules.casetrans && c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
            out += c;
        }
    }
    if (!m_rules.keep_version && semicolon != std::string::npos && semicolon >= start)
        cut_version(out, semicolon);
    return out;
}

Result<InodeNo> IsoFs::dotdot_of(std::uint64_t dir_lba, std::uint32_t) {
    const std::string where = fmt::format("cd9660: directory at block {}", dir_lba);
    if (dir_lba >= m_cache->block_count())
        return Error::corrupt(where, "past the end of the image");
    io::BufRef buf = UKFS_TRY(m_cache->get(dir_lba));
    const Record dot = UKFS_TRY(parse_record(buf.data(), where + ": \".\" record"));
    const Record dotdot =
        UKFS_TRY(parse_record(buf.data().subspan(dot.length), where + ": \"..\" record"));
    if (!dot.is_dot() || !dotdot.is_dotdot() || !dotdot.is_dir())
        return Error::corrupt(where, "does not start with \".\" and \"..\" records");
    if (m_tree == Tree::rrip) {
        const RockRidge rr = UKFS_TRY(rock_ridge(dotdot, where + ": \"..\" record"));
        if (rr.pl)
            return lba_to_byte(rr.pl_lba);
    }
    return lba_to_byte(dotdot.data_lba());
}

void IsoFs::remember_parent(InodeNo dir, InodeNo parent) {
    std::lock_guard guard(m_parents_lock);
    if (m_parents.size() < max_parents)
        m_parents.emplace(dir, parent);
}

Result<InodeNo> IsoFs::parent_of(const Node& dir) {
    if (dir.ino == m_root)
        return m_root;
    const InodeNo up = UKFS_TRY(dotdot_of(dir.ino >> sector_shift, 0));
    if (up != dir.ino)
        return up;
    std::lock_guard guard(m_parents_lock);
    const auto it = m_parents.find(dir.ino);
    if (it == m_parents.end())
        return Error::corrupt(dir.what(), "the \"..\" record points to the directory itself "
                                          "and the parent is not known");
    return it->second;
}

// A directory moved for depth (CL) must lead back to the root through ".." (PL) in at most
// max_relocation_depth steps: a chain that does not is a relocation cycle.
Result<void> IsoFs::check_relocated(std::uint32_t target_lba, std::string_view where) {
    InodeNo cur = lba_to_byte(target_lba);
    for (int i = 0; i < max_relocation_depth; ++i) {
        if (cur == m_root)
            return {};
        const InodeNo up = UKFS_TRY(dotdot_of(cur >> sector_shift, 0));
        if (up == cur)
            break;
        cur = up;
    }
    return Error::corrupt(where, fmt::format("Rock Ridge relocated directory (CL to block {}) "
                                             "does not lead back to the root within {} "
                                             "levels: a relocation cycle",
                                             target_lba, max_relocation_depth));
}

Result<Entry> IsoFs::entry_of(const Node& dir, const Record& r, std::uint64_t addr) {
    Entry e;
    if (r.is_dot())
        return Entry{".", dir.ino, VType::dir, false};
    if (r.is_dotdot())
        return Entry{"..", UKFS_TRY(parent_of(dir)), VType::dir, false};
    const std::string where = fmt::format("cd9660: directory record at byte {}", addr);
    e.type = r.is_dir() ? VType::dir : VType::reg;
    e.ino = r.is_dir() ? lba_to_byte(r.data_lba()) : addr;
    if (m_tree == Tree::rrip) {
        const RockRidge rr = UKFS_TRY(rock_ridge(r, where));
        if (rr.re || rr.nm_current || rr.nm_parent)
            e.hidden = true;
        e.name = rr.nm ? rr.name : translate(r);
        if (rr.cl && !e.hidden) {
            if (r.is_dir())
                return Error::corrupt(where, "a Rock Ridge CL entry on a directory record");
            if (rr.cl_lba >= m_cache->block_count())
                return Error::corrupt(where, fmt::format("Rock Ridge CL to block {}, past the "
                                                         "end of the image",
                                                         rr.cl_lba));
            UKFS_TRY(check_relocated(rr.cl_lba, where));
            e.ino = lba_to_byte(rr.cl_lba);
            e.type = VType::dir;
        } else if (rr.px && !r.is_dir()) {
            const VType t = vfs::ifmt_to_vtype(rr.mode & S_IFMT);
            e.type = t == VType::none || t == VType::dir ? VType::reg : t;
        }
    } else {
        e.name = translate(r);
    }
    if (e.name.empty() || e.name == "." || e.name == ".." ||
        e.name.find_first_of(std::string_view("/\0", 2)) != std::string::npos)
        e.hidden = true;
    return e;
}

namespace {

// Visit the records of a directory from byte offset `from`: f(offset, record, address)
// returns false to stop.
template <class F>
Result<void> scan(io::BufferCache& cache, const Node& dir, std::uint64_t from, F&& f) {
    if (dir.extents.size() != 1)
        return Error::corrupt(dir.what(), "a directory of more than one extent");
    const Extent ext = dir.extents[0];
    std::uint64_t off = from;
    while (off < ext.bytes) {
        const std::uint64_t sec = off >> sector_shift;
        const std::size_t in = static_cast<std::size_t>(off & (sector_size - 1));
        const std::size_t avail = static_cast<std::size_t>(
            std::min<std::uint64_t>(sector_size, ext.bytes - (sec << sector_shift)));
        io::BufRef buf = UKFS_TRY(cache.get(ext.lba + sec));
        if (in >= avail || buf.data()[in] == std::byte{0}) {
            off = (sec + 1) << sector_shift;
            continue;
        }
        const std::uint64_t addr = lba_to_byte(ext.lba + sec) + in;
        const std::string where = fmt::format("{}: directory record at byte {}", dir.what(), addr);
        const Record r = UKFS_TRY(parse_record(buf.data().subspan(in, avail - in), where));
        const Result<bool> more = f(off, r, addr);
        if (!more)
            return more.error();
        if (!*more)
            return {};
        off += r.length;
    }
    return {};
}

}  // namespace

std::uint64_t IsoFs::hint(InodeNo dir) {
    std::lock_guard guard(m_parents_lock);
    const auto it = m_hints.find(dir);
    return it == m_hints.end() ? 0 : it->second;
}

void IsoFs::set_hint(InodeNo dir, std::uint64_t off) {
    std::lock_guard guard(m_parents_lock);
    if (m_hints.size() < max_parents || m_hints.count(dir) != 0)
        m_hints[dir] = off;
}

Result<InodeNo> IsoFs::lookup(const Node& dir, std::string_view name) {
    if (name == "..")
        return parent_of(dir);
    std::optional<InodeNo> found;
    bool continuation = false;
    // From the hint to the end, then from the start up to the hint.
    const std::uint64_t start = hint(dir.ino);
    std::uint64_t stop_at = UINT64_MAX;
    std::uint64_t found_at = 0;
    auto each = [&](std::uint64_t off, const Record& r, std::uint64_t addr) -> Result<bool> {
        if (off >= stop_at)
            return false;
        const bool skip = continuation;
        continuation = (r.flags & flag_multi_extent) != 0;
        if (skip || r.is_dot() || r.is_dotdot())
            return true;
        const Entry e = UKFS_TRY(entry_of(dir, r, addr));
        if (e.hidden)
            return true;
        auto same = [&](std::string_view a) {
            if (m_tree == Tree::plain || (m_tree == Tree::rrip && m_rules.rr_caseins))
                return iequal(a, name);
            return a == name;
        };
        bool match = same(e.name);
        // With versions kept, a name without one finds the highest version
        // (NetBSD's isofncmp).
        if (!match && m_tree != Tree::rrip && m_rules.keep_version) {
            std::string bare = e.name;
            const std::size_t semi = bare.find(';');
            if (semi != std::string::npos) {
                cut_version(bare, semi);
                match = same(bare);
            }
        }
        if (match) {
            found = e.ino;
            found_at = off;
            if (e.type == VType::dir)
                remember_parent(e.ino, dir.ino);
        }
        return !match;
    };
    bool failed = false;
    if (start < dir.size) {
        const Result<void> from_hint = scan(*m_cache, dir, start, each);
        if (!from_hint && start == 0)
            return from_hint.error();
        failed = !from_hint;
    }
    if (!found && start != 0) {
        // After a failure past the hint, scan everything again so that the error is reported.
        continuation = false;
        stop_at = failed ? UINT64_MAX : start;
        UKFS_TRY(scan(*m_cache, dir, 0, each));
    }
    if (!found)
        return Error::sys(ENOENT);
    set_hint(dir.ino, found_at);
    return *found;
}

Result<void> IsoFs::readdir(const Node& dir, std::uint64_t cookie, const vfs::DirVisitor& visit) {
    std::optional<Entry> pending;
    bool continuation = false;
    bool stopped = false;
    const bool dedup = m_tree != Tree::rrip && !m_rules.keep_version;
    auto each = [&](std::uint64_t off, const Record& r, std::uint64_t addr) -> Result<bool> {
        const bool skip = continuation;
        continuation = (r.flags & flag_multi_extent) != 0;
        if (skip)
            return true;
        Entry e = UKFS_TRY(entry_of(dir, r, addr));
        if (e.hidden || (dedup && pending && pending->name == e.name))
            return true;
        if (e.type == VType::dir && !r.is_dot() && !r.is_dotdot())
            remember_parent(e.ino, dir.ino);
        if (pending) {
            const vfs::DirEntry de{pending->ino, pending->type, pending->name};
            if (!visit(de, off)) {
                stopped = true;
                return false;
            }
        }
        pending = std::move(e);
        return true;
    };
    UKFS_TRY(scan(*m_cache, dir, cookie, each));
    if (pending && !stopped) {
        const vfs::DirEntry de{pending->ino, pending->type, pending->name};
        (void)visit(de, dir.size);
    }
    return {};
}

}  // namespace uk::cd9660
