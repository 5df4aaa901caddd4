// FFS directories (see dir.hpp).
#include "fs/ffs/dir.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "fs/ffs/bmap.hpp"

namespace uk::ffs {

namespace {

// Reads the chunks of one directory in order, mapping each block once.
class ChunkReader {
public:
    ChunkReader(FfsFs& fs, const InodeData& dir) : m_fs(fs), m_dir(dir) {}

    // The chunk at byte `off` (a multiple of dirblksiz, inside the size).
    Result<void> read(std::uint64_t off, std::span<std::byte, dirblksiz> out) {
        const Geometry& g = m_fs.geometry();
        const std::uint64_t lbn = g.lblkno(off);
        if (lbn != m_lbn) {
            m_addr = UKFS_TRY(map_block(m_fs, m_dir, lbn));
            if (m_addr == 0)
                return Error::corrupt(m_dir.what(),
                                      fmt::format("directory block {} is a hole", lbn));
            m_lbn = lbn;
        }
        return m_fs.read_bytes(m_addr, g.blkoff(off), out);
    }

private:
    FfsFs& m_fs;
    const InodeData& m_dir;
    std::uint64_t m_lbn = ~std::uint64_t{0};
    std::uint64_t m_addr = 0;
};

template <class Visit>
Result<void> walk(FfsFs& fs, const InodeData& dir, std::uint64_t cookie, Visit&& visit) {
    const Geometry& g = fs.geometry();
    const Order o = g.order;
    std::array<std::byte, dirblksiz> chunk{};
    ChunkReader reader(fs, dir);
    for (std::uint64_t base = cookie & ~std::uint64_t{dirblksiz - 1}; base < dir.size;
         base += dirblksiz) {
        UKFS_TRY(reader.read(base, std::span<std::byte, dirblksiz>(chunk)));
        std::uint32_t pos = 0;
        while (pos < dirblksiz) {
            const auto where = [&] {
                return fmt::format("{}: directory entry at byte {}", dir.what(), base + pos);
            };
            if (dirblksiz - pos < sizeof(DirectHeader))
                return Error::corrupt(where(), "does not fit in its 512-byte chunk");
            DirectHeader h{};
            std::memcpy(&h, chunk.data() + pos, sizeof h);
            const std::uint32_t reclen = o.u16(h.d_reclen);
            const std::uint32_t ino = o.u32(h.d_ino);
            std::uint32_t namlen = h.d_namlen;
            std::uint8_t type = h.d_type;
            if (g.old_dirfmt) {  // one 16-bit d_namlen where d_type and d_namlen are
                Raw16 raw;
                std::memcpy(raw.bytes, chunk.data() + pos + offsetof(DirectHeader, d_type), 2);
                namlen = o.u16(raw);
                type = dt_unknown;
            }
            if (reclen == 0 || reclen % 4 != 0 || reclen > dirblksiz - pos)
                return Error::corrupt(where(), fmt::format("d_reclen {} is not a multiple of 4 "
                                                           "inside the chunk",
                                                           reclen));
            if (ino != 0) {
                if (namlen == 0 || namlen > maxnamlen || dirsiz(namlen) > reclen)
                    return Error::corrupt(where(), fmt::format("d_namlen {} does not fit "
                                                               "d_reclen {}",
                                                               namlen, reclen));
                if (ino >= g.inodes())
                    return Error::corrupt(where(), fmt::format("d_ino {} is out of range", ino));
                const std::string_view name(
                    reinterpret_cast<const char*>(chunk.data()) + pos + sizeof h, namlen);
                const std::uint64_t at = base + pos;
                const bool whiteout = ino == wino || type == dt_wht;
                if (at >= cookie && !whiteout) {
                    const DirRecord rec{ino, type, name, at, at + reclen};
                    if (!UKFS_TRY(visit(rec)))
                        return {};
                }
            }
            pos += reclen;
        }
    }
    return {};
}

}  // namespace

VType dtype_to_vtype(std::uint8_t t) {
    switch (t) {
    case dt_reg: return VType::reg;
    case dt_dir: return VType::dir;
    case dt_lnk: return VType::lnk;
    case dt_blk: return VType::blk;
    case dt_chr: return VType::chr;
    case dt_fifo: return VType::fifo;
    case dt_sock: return VType::sock;
    default: return VType::none;
    }
}

Result<void> walk_dir(FfsFs& fs, const InodeData& dir, std::uint64_t cookie,
                      const RecordVisitor& visit) {
    return walk(fs, dir, cookie, visit);
}

Result<InodeNo> dir_lookup(FfsFs& fs, const InodeData& dir, std::string_view name) {
    InodeNo found = 0;
    UKFS_TRY(walk(fs, dir, 0, [&](const DirRecord& rec) -> Result<bool> {
        if (rec.name != name)
            return true;
        found = rec.ino;
        return false;
    }));
    if (found == 0)
        return Error::sys(ENOENT);
    return found;
}

Result<void> dir_list(FfsFs& fs, const InodeData& dir, std::uint64_t cookie,
                      const vfs::DirVisitor& visit) {
    return walk(fs, dir, cookie, [&](const DirRecord& rec) -> Result<bool> {
        // Names are checked where they are handed out (a lookup's match equals its query).
        if (rec.name.find('/') != std::string_view::npos ||
            rec.name.find('\0') != std::string_view::npos)
            return Error::corrupt(fmt::format("{}: directory entry at byte {}", dir.what(), rec.at),
                                  "the name holds a '/' or a NUL");
        VType type = dtype_to_vtype(rec.type);
        if (type == VType::none) {  // the 4.2BSD format or DT_UNKNOWN: ask the inode
            const InodeData child = UKFS_TRY(load_inode(fs, rec.ino));
            type = child.type;
        }
        const vfs::DirEntry entry{rec.ino, type, rec.name};
        return visit(entry, rec.next);
    });
}

}  // namespace uk::ffs
