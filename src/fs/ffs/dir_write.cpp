// Changing FFS directories (see dir.hpp). Facts: NetBSD sys/ufs/ufs/dir.h (struct direct,
// UFS_DIRSIZ), ufs_lookup.c (ufs_direnter: a slot from free space in a chunk, compacting the
// chunk when the space is scattered, a new chunk appended otherwise; ufs_dirremove: the entry's
// space joins the one before it, or the first entry of a chunk gets d_ino 0).
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "fs/ffs/bmap.hpp"
#include "fs/ffs/dir.hpp"

namespace uk::ffs {

namespace {

using Chunk = std::array<std::byte, dirblksiz>;

struct Entry {
    std::uint32_t pos, reclen, ino, namlen;
    std::uint8_t type;
    std::string_view name;
};

Result<std::uint64_t> chunk_addr(FfsFs& fs, const InodeData& dir, std::uint64_t off) {
    const std::uint64_t addr = UKFS_TRY(map_block(fs, dir, fs.geometry().lblkno(off)));
    if (addr == 0)
        return Error::corrupt(dir.what(), fmt::format("directory block at byte {} is a hole", off));
    return addr;
}

Result<void> read_chunk(FfsFs& fs, const InodeData& dir, std::uint64_t off, Chunk& c) {
    const std::uint64_t addr = UKFS_TRY(chunk_addr(fs, dir, off));
    return fs.read_bytes(addr, fs.geometry().blkoff(off), c);
}

Result<void> write_chunk(FfsFs& fs, const InodeData& dir, std::uint64_t off, const Chunk& c) {
    const std::uint64_t addr = UKFS_TRY(chunk_addr(fs, dir, off));
    return fs.write_bytes(addr, fs.geometry().blkoff(off), c);
}

// The entries of a chunk, checked as the walker checks them.
Result<std::vector<Entry>> parse(const Geometry& g, const InodeData& dir, std::uint64_t off,
                                 const Chunk& c) {
    std::vector<Entry> out;
    std::uint32_t pos = 0;
    while (pos < dirblksiz) {
        const auto where = [&] {
            return fmt::format("{}: directory entry at byte {}", dir.what(), off + pos);
        };
        if (dirblksiz - pos < sizeof(DirectHeader))
            return Error::corrupt(where(), "does not fit in its 512-byte chunk");
        DirectHeader h{};
        std::memcpy(&h, c.data() + pos, sizeof h);
        Entry e{pos, g.order.u16(h.d_reclen), g.order.u32(h.d_ino), h.d_namlen, h.d_type, {}};
        if (e.reclen == 0 || e.reclen % 4 != 0 || e.reclen > dirblksiz - pos)
            return Error::corrupt(where(), fmt::format("d_reclen {} is bad", e.reclen));
        if (e.ino != 0 && (e.namlen == 0 || dirsiz(e.namlen) > e.reclen))
            return Error::corrupt(where(), fmt::format("d_namlen {} does not fit", e.namlen));
        e.name = std::string_view(reinterpret_cast<const char*>(c.data()) + pos + sizeof h,
                                  e.ino != 0 ? e.namlen : 0);
        out.push_back(e);
        pos += e.reclen;
    }
    return out;
}

void put_entry(const Geometry& g, Chunk& c, std::uint32_t pos, std::uint32_t reclen,
               std::uint32_t ino, std::uint8_t type, std::string_view name) {
    DirectHeader h{};
    g.order.set(h.d_ino, ino);
    g.order.set(h.d_reclen, static_cast<std::uint16_t>(reclen));
    h.d_type = type;
    h.d_namlen = static_cast<std::uint8_t>(name.size());
    std::memcpy(c.data() + pos, &h, sizeof h);
    const std::uint32_t room =
        dirsiz(static_cast<std::uint32_t>(name.size())) - std::uint32_t{sizeof h};
    std::memset(c.data() + pos + sizeof h, 0, room);
    std::memcpy(c.data() + pos + sizeof h, name.data(), name.size());
}

void set_reclen(const Geometry& g, Chunk& c, std::uint32_t pos, std::uint32_t reclen) {
    Raw16 r;
    g.order.set(r, static_cast<std::uint16_t>(reclen));
    std::memcpy(c.data() + pos + offsetof(DirectHeader, d_reclen), &r, 2);
}

// Place a new entry in chunk `c` if it has room; false when it has not.
bool place(const Geometry& g, Chunk& c, const std::vector<Entry>& es, std::uint32_t ino,
           std::uint8_t type, std::string_view name) {
    const std::uint32_t need = dirsiz(static_cast<std::uint32_t>(name.size()));
    std::uint32_t spare = 0;
    for (const Entry& e : es) {
        const std::uint32_t used = e.ino != 0 ? dirsiz(e.namlen) : 0;
        if (e.reclen - used >= need) {
            if (e.ino == 0) {
                put_entry(g, c, e.pos, e.reclen, ino, type, name);
            } else {
                set_reclen(g, c, e.pos, used);
                put_entry(g, c, e.pos + used, e.reclen - used, ino, type, name);
            }
            return true;
        }
        spare += e.reclen - used;
    }
    if (spare < need)
        return false;
    // Scattered space: pack the live entries, then the new one takes the rest.
    Chunk packed{};
    std::uint32_t at = 0;
    for (const Entry& e : es) {
        if (e.ino == 0)
            continue;
        const std::uint32_t used = dirsiz(e.namlen);
        std::memcpy(packed.data() + at, c.data() + e.pos, used);
        set_reclen(g, packed, at, used);
        at += used;
    }
    put_entry(g, packed, at, dirblksiz - at, ino, type, name);
    c = packed;
    return true;
}

struct Found {
    std::uint64_t base;
    Chunk chunk;
    std::vector<Entry> entries;
    std::size_t index;
};

Result<Found> find(FfsFs& fs, const InodeData& dir, std::string_view name) {
    const Geometry& g = fs.geometry();
    Found f{};
    for (f.base = 0; f.base < dir.size; f.base += dirblksiz) {
        UKFS_TRY(read_chunk(fs, dir, f.base, f.chunk));
        f.entries = UKFS_TRY(parse(g, dir, f.base, f.chunk));
        for (f.index = 0; f.index < f.entries.size(); ++f.index) {
            const Entry& e = f.entries[f.index];
            if (e.ino != 0 && e.name == name)
                return f;
        }
    }
    return Error::sys(ENOENT);
}

}  // namespace

std::uint8_t vtype_to_dtype(VType t) {
    switch (t) {
    case VType::reg: return dt_reg;
    case VType::dir: return dt_dir;
    case VType::lnk: return dt_lnk;
    case VType::blk: return dt_blk;
    case VType::chr: return dt_chr;
    case VType::fifo: return dt_fifo;
    case VType::sock: return dt_sock;
    default: return dt_unknown;
    }
}

Result<void> dir_add(FfsFs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                     VType type) {
    const Geometry& g = fs.geometry();
    if (name.empty() || name.size() > maxnamlen)
        return Error::sys(ENAMETOOLONG);
    const std::uint8_t dt = vtype_to_dtype(type);
    Chunk c{};
    for (std::uint64_t base = 0; base < dir.size; base += dirblksiz) {
        UKFS_TRY(read_chunk(fs, dir, base, c));
        const std::vector<Entry> es = UKFS_TRY(parse(g, dir, base, c));
        if (place(g, c, es, ino, dt, name))
            return write_chunk(fs, dir, base, c);
    }
    c.fill(std::byte{0});
    put_entry(g, c, 0, dirblksiz, ino, dt, name);
    const std::size_t n = UKFS_TRY(write_data(fs, dir, dir.size, c));
    if (n != c.size())
        return Error::sys(ENOSPC);
    return {};
}

Result<void> dir_remove(FfsFs& fs, InodeData& dir, std::string_view name) {
    const Geometry& g = fs.geometry();
    Found f = UKFS_TRY(find(fs, dir, name));
    const Entry& e = f.entries[f.index];
    if (f.index == 0) {
        Raw32 zero{};
        std::memcpy(f.chunk.data() + e.pos + offsetof(DirectHeader, d_ino), &zero, 4);
    } else {
        const Entry& prev = f.entries[f.index - 1];
        set_reclen(g, f.chunk, prev.pos, prev.reclen + e.reclen);
    }
    return write_chunk(fs, dir, f.base, f.chunk);
}

Result<void> dir_retarget(FfsFs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                          VType type) {
    const Geometry& g = fs.geometry();
    Found f = UKFS_TRY(find(fs, dir, name));
    const Entry& e = f.entries[f.index];
    Raw32 r;
    g.order.set(r, ino);
    std::memcpy(f.chunk.data() + e.pos + offsetof(DirectHeader, d_ino), &r, 4);
    const std::uint8_t dt = vtype_to_dtype(type);
    std::memcpy(f.chunk.data() + e.pos + offsetof(DirectHeader, d_type), &dt, 1);
    return write_chunk(fs, dir, f.base, f.chunk);
}

Result<bool> dir_is_empty(FfsFs& fs, const InodeData& dir) {
    bool empty = true;
    UKFS_TRY(walk_dir(fs, dir, 0, [&](const DirRecord& rec) -> Result<bool> {
        if (rec.name != "." && rec.name != "..")
            empty = false;
        return empty;
    }));
    return empty;
}

Result<void> dir_init(FfsFs& fs, InodeData& dir, std::uint32_t parent) {
    const Geometry& g = fs.geometry();
    Chunk c{};
    put_entry(g, c, 0, dirsiz(1), dir.ino, dt_dir, ".");
    put_entry(g, c, dirsiz(1), dirblksiz - dirsiz(1), parent, dt_dir, "..");
    const std::size_t n = UKFS_TRY(write_data(fs, dir, 0, c));
    if (n != c.size())
        return Error::sys(ENOSPC);
    return {};
}

}  // namespace uk::ffs
