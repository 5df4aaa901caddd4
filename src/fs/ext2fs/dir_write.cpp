// Directory changes (see dir.hpp): entries added into the first gap that holds
// them (or a new block), removed by merging into the entry before, retargeted
// in place. Facts: kernel ext4 directory.rst (entry layout, rec_len rules, the
// leaf tail, hash tree node layout).
//
// Hash tree (dir_index) directories are kept indexed (htree.hpp): an addition
// goes to the leaf its hash selects, splitting leaves and index nodes as the
// kernel does; a removal or retarget finds the entry by hash and changes only
// its leaf. A linear directory that outgrows its first block becomes indexed
// when the file system has dir_index, as the kernel's make_indexed_dir does.
// A directory with the index flag on a file system without dir_index (which
// the kernel reads linearly) becomes linear at its first addition: the index
// blocks become empty entry blocks and the flag is cleared.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/crc32c.hpp"
#include "fs/ext2fs/bmap.hpp"
#include "fs/ext2fs/dir.hpp"
#include "fs/ext2fs/htree.hpp"

namespace uk::ext2fs {

std::uint32_t entry_size(std::size_t name_len) {
    return static_cast<std::uint32_t>(dirent_header_size + ((name_len + 3) & ~std::size_t{3}));
}

std::uint16_t rec_len_to_disk(const Geometry& g, std::uint32_t len) {
    if (g.block_size < 65536)
        return static_cast<std::uint16_t>(len);
    if (len == 65536)
        return 0xFFFF;
    return static_cast<std::uint16_t>((len & 0xFFFC) | ((len >> 16) & 3));
}

namespace {

std::uint8_t vtype_to_ft(VType t) {
    switch (t) {
    case VType::reg: return ft_reg_file;
    case VType::dir: return ft_dir;
    case VType::chr: return ft_chrdev;
    case VType::blk: return ft_blkdev;
    case VType::fifo: return ft_fifo;
    case VType::sock: return ft_sock;
    case VType::lnk: return ft_symlink;
    default: return ft_unknown;
    }
}

}  // namespace

std::uint32_t leaf_usable(const Geometry& g) {
    return g.block_size -
           (g.metadata_csum() ? static_cast<std::uint32_t>(sizeof(DirEntryTail)) : 0);
}

namespace {

void put_entry(const Geometry& g, std::span<std::byte> block, std::uint32_t off, std::uint32_t ino,
               std::uint32_t rec_len, std::string_view name, VType type) {
    DirEntryHeader h{};
    h.inode.set(ino);
    h.rec_len.set(rec_len_to_disk(g, rec_len));
    h.name_len = static_cast<std::uint8_t>(name.size());
    h.file_type = g.has_incompat(incompat_filetype) ? vtype_to_ft(type) : 0;
    std::memcpy(block.data() + off, &h, sizeof h);
    std::memcpy(block.data() + off + sizeof h, name.data(), name.size());
    const std::uint32_t used = static_cast<std::uint32_t>(sizeof h + name.size());
    std::fill(block.begin() + off + used, block.begin() + off + entry_size(name.size()),
              std::byte{0});
}

}  // namespace

void set_rec_len(const Geometry& g, std::span<std::byte> block, std::uint32_t off,
                 std::uint32_t rec_len) {
    le16 v;
    v.set(rec_len_to_disk(g, rec_len));
    std::memcpy(block.data() + off + offsetof(DirEntryHeader, rec_len), &v, 2);
}

void seal_leaf(const Geometry& g, const InodeData& dir, std::span<std::byte> block) {
    if (!g.metadata_csum())
        return;
    const std::size_t at = g.block_size - sizeof(DirEntryTail);
    DirEntryTail t{};
    t.det_rec_len.set(sizeof(DirEntryTail));
    t.det_reserved_ft = ft_dir_csum;
    t.det_checksum.set(crc32c_update(dir.csum_seed, block.first(at)));
    std::memcpy(block.data() + at, &t, sizeof t);
}

Result<bool> put_in_leaf(const Geometry& g, const InodeData& dir, io::BufRef& buf,
                         const std::string& where, std::string_view name, std::uint32_t ino,
                         VType type) {
    const ByteView view(buf.data(), "ext2fs: directory block");
    const std::uint32_t need = entry_size(name.size());
    const std::uint32_t area = leaf_usable(g);
    for (std::uint32_t off = 0; off < area;) {
        const EntryAt e = UKFS_TRY(entry_at(g, view, off, where));
        const std::uint32_t used = e.h.inode.get() != 0 ? entry_size(e.h.name_len) : 0;
        if (off + e.rec_len <= area && e.rec_len >= used + need) {
            std::span<std::byte> bytes = buf.mark_dirty();
            if (used == 0) {
                put_entry(g, bytes, off, ino, e.rec_len, name, type);
            } else {
                set_rec_len(g, bytes, off, used);
                put_entry(g, bytes, off + used, ino, e.rec_len - used, name, type);
            }
            seal_leaf(g, dir, bytes);
            return true;
        }
        off += e.rec_len;
    }
    return false;
}

namespace {

// Call `fn(lblock, buf)` for each mapped block of `dir` until it returns true.
template <class Fn>
Result<bool> each_block(Ext2Fs& fs, const InodeData& dir, Fn&& fn) {
    const Geometry& g = fs.geometry();
    const std::uint64_t nblocks = (dir.size + g.block_size - 1) >> g.log_block_size;
    for (std::uint64_t lblock = 0; lblock < nblocks;) {
        const Run run = UKFS_TRY(map_block(fs, dir, lblock));
        const std::uint64_t n = std::min(run.count, nblocks - lblock);
        for (std::uint64_t k = 0; k < n && !run.hole(); ++k) {
            const std::string where =
                fmt::format("ext2fs: directory inode {}, block {}", dir.ino, lblock + k);
            io::BufRef buf = UKFS_TRY(fs.block(run.pblock + k, where));
            if (UKFS_TRY(fn(lblock + k, buf, where)))
                return true;
        }
        lblock += n;
    }
    return false;
}

// Whether a block of an indexed directory is an interior index node (a fake
// entry spanning the whole block), as dir.cpp tells them apart.
Result<bool> is_index_node(const Geometry& g, ByteView block, const std::string& where) {
    const EntryAt e = UKFS_TRY(entry_at(g, block, 0, where));
    return e.h.inode.get() == 0 && e.h.name_len == 0 && e.rec_len == g.block_size;
}

// Turn an indexed directory into a linear one (see the comment at the top).
Result<void> drop_index(Ext2Fs& fs, InodeData& dir) {
    const Geometry& g = fs.geometry();
    auto visit = [&](std::uint64_t lblock, io::BufRef& buf,
                     const std::string& where) -> Result<bool> {
        const ByteView view(buf.data(), "ext2fs: directory block");
        if (lblock == 0) {
            // "." (12 bytes) then ".." whose rec_len spans the index: make ".." span
            // the block's entry area and clear what the index held.
            const EntryAt dot = UKFS_TRY(entry_at(g, view, 0, where));
            const EntryAt dotdot = UKFS_TRY(entry_at(g, view, dot.rec_len, where));
            const std::uint32_t at = dot.rec_len;
            const std::uint32_t keep = at + entry_size(dotdot.h.name_len);
            std::span<std::byte> bytes = buf.mark_dirty();
            std::fill(bytes.begin() + keep, bytes.end(), std::byte{0});
            set_rec_len(g, bytes, at, leaf_usable(g) - at);
            seal_leaf(g, dir, bytes);
        } else if (UKFS_TRY(is_index_node(g, view, where))) {
            std::span<std::byte> bytes = buf.mark_dirty();
            std::fill(bytes.begin(), bytes.end(), std::byte{0});
            set_rec_len(g, bytes, 0, leaf_usable(g));
            seal_leaf(g, dir, bytes);
        }
        fs.set_checksum_verified(buf.block());
        return false;
    };
    UKFS_TRY(each_block(fs, dir, visit));
    dir.flags &= ~inode_index_fl;
    return {};
}

bool indexed(const Ext2Fs& fs, const InodeData& dir) {
    return dir.has_flag(inode_index_fl) && fs.geometry().has_compat(compat_dir_index);
}

// Find entry `name`; calls fn(bytes-to-change, offset, previous live-or-empty
// entry offset or -1, rec_len) on its block.
template <class Fn>
Result<bool> find_entry(Ext2Fs& fs, const InodeData& dir, std::string_view name, Fn&& fn) {
    const Geometry& g = fs.geometry();
    return each_block(
        fs, dir, [&](std::uint64_t, io::BufRef& buf, const std::string& where) -> Result<bool> {
            const ByteView view(buf.data(), "ext2fs: directory block");
            std::int64_t prev = -1;
            for (std::uint32_t off = 0; off < g.block_size;) {
                const EntryAt e = UKFS_TRY(entry_at(g, view, off, where));
                const auto* p = reinterpret_cast<const char*>(view.data() + off + sizeof e.h);
                if (e.h.inode.get() != 0 && std::string_view(p, e.h.name_len) == name) {
                    UKFS_TRY(fn(buf, off, prev, e.rec_len));
                    return true;
                }
                prev = off;
                off += e.rec_len;
            }
            return false;
        });
}

}  // namespace

Result<void> dir_add(Ext2Fs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                     VType type) {
    const Geometry& g = fs.geometry();
    if (dir.inline_data())
        return Error::sys(EROFS, dir.what() + ": changing an inline directory is not supported "
                                              "yet");
    if (name.empty() || name.size() > name_max)
        return Error::sys(ENAMETOOLONG);
    const bool dx_feature = g.has_compat(compat_dir_index);
    if (dir.has_flag(inode_index_fl) && dx_feature)
        return dx_add(fs, dir, name, ino, type);
    if (dir.has_flag(inode_index_fl))
        UKFS_TRY(drop_index(fs, dir));
    const std::uint32_t area = leaf_usable(g);
    auto visit = [&](std::uint64_t, io::BufRef& buf, const std::string& where) -> Result<bool> {
        return put_in_leaf(g, dir, buf, where, name, ino, type);
    };
    const bool placed = UKFS_TRY(each_block(fs, dir, visit));
    if (placed)
        return {};
    // A full first block: index the directory, as the kernel does.
    if (dx_feature && dir.size == g.block_size && UKFS_TRY(dx_make_indexed(fs, dir)))
        return dx_add(fs, dir, name, ino, type);
    // No room: a new block at the end.
    const std::uint64_t lblock = (dir.size + g.block_size - 1) >> g.log_block_size;
    const AllocRun run = UKFS_TRY(map_alloc(fs, dir, lblock, 1));
    io::BufRef buf = UKFS_TRY(fs.cache().get_zeroed(run.pblock));
    std::span<std::byte> bytes = buf.mark_dirty();
    put_entry(g, bytes, 0, ino, area, name, type);
    seal_leaf(g, dir, bytes);
    fs.set_checksum_verified(run.pblock);
    dir.size = (lblock + 1) << g.log_block_size;
    return {};
}

Result<void> dir_remove(Ext2Fs& fs, InodeData& dir, std::string_view name) {
    const Geometry& g = fs.geometry();
    if (dir.inline_data())
        return Error::sys(EROFS, dir.what() + ": changing an inline directory is not supported "
                                              "yet");
    auto unlink = [&](io::BufRef& buf, std::uint32_t off, std::int64_t prev,
                      std::uint32_t rec_len) -> Result<void> {
        std::span<std::byte> bytes = buf.mark_dirty();
        if (prev >= 0) {
            const auto p = static_cast<std::uint32_t>(prev);
            set_rec_len(g, bytes, p, off - p + rec_len);
        } else {
            le32 zero;
            zero.set(0);
            std::memcpy(bytes.data() + off, &zero, sizeof zero);
        }
        seal_leaf(g, dir, bytes);
        return {};
    };
    const bool found = indexed(fs, dir) && name != "." && name != ".."
                           ? UKFS_TRY(dx_find(fs, dir, name, unlink))
                           : UKFS_TRY(find_entry(fs, dir, name, unlink));
    if (!found)
        return Error::sys(ENOENT);
    return {};
}

Result<void> dir_retarget(Ext2Fs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                          VType type) {
    const Geometry& g = fs.geometry();
    if (dir.inline_data())
        return Error::sys(EROFS, dir.what() + ": changing an inline directory is not supported "
                                              "yet");
    if (name == ".." && indexed(fs, dir))
        return dx_set_parent(fs, dir, ino, vtype_to_ft(type));  // under the root's checksum
    auto point = [&](io::BufRef& buf, std::uint32_t off, std::int64_t,
                     std::uint32_t) -> Result<void> {
        std::span<std::byte> bytes = buf.mark_dirty();
        DirEntryHeader h{};
        std::memcpy(&h, bytes.data() + off, sizeof h);
        h.inode.set(ino);
        if (g.has_incompat(incompat_filetype))
            h.file_type = vtype_to_ft(type);
        std::memcpy(bytes.data() + off, &h, sizeof h);
        seal_leaf(g, dir, bytes);
        return {};
    };
    const bool found = indexed(fs, dir) && name != "." ? UKFS_TRY(dx_find(fs, dir, name, point))
                                                       : UKFS_TRY(find_entry(fs, dir, name, point));
    if (!found)
        return Error::corrupt(dir.what(), fmt::format("has no entry \"{}\" to change", name));
    return {};
}

Result<bool> dir_is_empty(Ext2Fs& fs, const InodeData& dir) {
    bool empty = true;
    auto visit = [&](const DirRecord& rec) -> Result<bool> {
        if (rec.name == "." || rec.name == "..")
            return true;
        empty = false;
        return false;
    };
    UKFS_TRY(walk_dir(fs, dir, 0, visit));
    return empty;
}

Result<void> dir_init(Ext2Fs& fs, InodeData& dir, std::uint32_t parent) {
    const Geometry& g = fs.geometry();
    const AllocRun run = UKFS_TRY(map_alloc(fs, dir, 0, 1));
    io::BufRef buf = UKFS_TRY(fs.cache().get_zeroed(run.pblock));
    std::span<std::byte> bytes = buf.mark_dirty();
    const std::uint32_t dot = entry_size(1);
    put_entry(g, bytes, 0, dir.ino, dot, ".", VType::dir);
    put_entry(g, bytes, dot, parent, leaf_usable(g) - dot, "..", VType::dir);
    seal_leaf(g, dir, bytes);
    fs.set_checksum_verified(run.pblock);
    dir.size = g.block_size;
    return {};
}

}  // namespace uk::ext2fs
