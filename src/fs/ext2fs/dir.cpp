// Directories (see dir.hpp). Facts: kernel ext4 directory.rst (linear entries, the leaf tail,
// hash tree nodes and their dx_tail), inline_data.rst; the four entry checks are e2fsprogs'
// dir_iterate.c and the kernel's ext4_check_dir_entry(); rec_len above 65535 as the kernel's
// ext4_rec_len_from_disk() decodes it.
#include "fs/ext2fs/dir.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "base/crc32c.hpp"
#include "fs/ext2fs/bmap.hpp"
#include "fs/ext2fs/csum.hpp"
#include "fs/ext2fs/data.hpp"
#include "fs/ext2fs/htree.hpp"

namespace uk::ext2fs {

namespace {

constexpr std::uint32_t min_rec_len = 12;  // an entry with a 1..4-byte name
constexpr std::uint64_t inline_first = 2;  // inline cookies: 0 ".", 1 "..", then areas

// Where a region of entries sits, for cookies and messages.
struct Region {
    ByteView bytes;
    std::uint64_t base;       // the cookie of its byte 0
    std::string where;        // "ext2fs: directory inode 12, block 3"
    bool big_blocks = false;  // 64 KiB blocks: rec_len uses the two low bits as bits 16-17
};

std::uint32_t rec_len_from_disk(std::uint16_t v, const Region& r) {
    if (!r.big_blocks)
        return v;
    if (v == 0xFFFF || v == 0)
        return static_cast<std::uint32_t>(r.bytes.size());
    return (v & 0xFFFCu) | (std::uint32_t{v} & 3u) << 16;
}

Result<void> check_entry(const Geometry& g, const Region& r, std::uint64_t off,
                         const DirEntryHeader& h, std::uint32_t rec_len) {
    auto bad = [&](std::string why) {
        return Error::corrupt(fmt::format("{}, offset {}", r.where, off), std::move(why));
    };
    if (rec_len < min_rec_len)
        return bad(fmt::format("rec_len {} is smaller than {}", rec_len, min_rec_len));
    if (rec_len % 4 != 0)
        return bad(fmt::format("rec_len {} is not a multiple of 4", rec_len));
    if (!r.bytes.fits(off, rec_len))
        return bad(fmt::format("rec_len {} runs past the end ({} bytes)", rec_len, r.bytes.size()));
    if (std::uint32_t{h.name_len} + dirent_header_size > rec_len)
        return bad(fmt::format("name_len {} does not fit rec_len {}", h.name_len, rec_len));
    if (h.inode.get() != 0 && h.name_len == 0)
        return bad(fmt::format("entry for inode {} has an empty name", h.inode.get()));
    if (h.inode.get() > g.inodes_count)
        return bad(fmt::format("inode {} is out of range", h.inode.get()));
    return {};
}

// Walk one region; false when the visitor stopped.
Result<bool> walk_region(const Geometry& g, const Region& r, std::uint64_t start,
                         const RecordVisitor& visit) {
    const bool filetype = g.has_incompat(incompat_filetype);
    std::uint64_t off = 0;
    while (off < r.bytes.size()) {
        const DirEntryHeader h = UKFS_TRY(r.bytes.read<DirEntryHeader>(off));
        const std::uint32_t rec_len = rec_len_from_disk(h.rec_len.get(), r);
        UKFS_TRY(check_entry(g, r, off, h, rec_len));
        if (h.inode.get() != 0 && r.base + off >= start) {
            const auto* p = static_cast<const char*>(
                static_cast<const void*>(r.bytes.data() + off + dirent_header_size));
            const DirRecord rec{h.inode.get(), filetype ? h.file_type : ft_unknown,
                                std::string_view(p, h.name_len), r.base + off + rec_len};
            if (!UKFS_TRY(visit(rec)))
                return false;
        }
        off += rec_len;  // positive: check_entry saw at least 12
    }
    return true;
}

// Whether block `lblock` of `dir` is a hash tree node (root or interior) rather than a leaf,
// and with metadata_csum, verify the checksum that kind of block carries.
Result<bool> check_dir_block(const Geometry& g, const InodeData& dir, std::uint64_t lblock,
                             ByteView block, const std::string& where, bool verified) {
    const bool indexed = dir.has_flag(inode_index_fl);
    const DirEntryHeader first = UKFS_TRY(block.read<DirEntryHeader>(0));
    const bool interior =
        indexed && lblock != 0 && first.inode.get() == 0 && first.name_len == 0 &&
        rec_len_from_disk(first.rec_len.get(), Region{block, 0, {}, g.block_size == 65536}) ==
            g.block_size;
    const bool dx = indexed && (lblock == 0 || interior);
    if (!g.metadata_csum() || verified)
        return dx;
    if (dx) {
        std::uint64_t count_offset = dirent_header_size;
        if (lblock == 0)
            count_offset = dx_root_info_offset +
                           UKFS_TRY(block.read<DxRootInfo>(dx_root_info_offset)).info_length;
        UKFS_TRY(verify_dx_node(dir, block, count_offset, where));
        return true;
    }
    UKFS_TRY(verify_leaf(dir, block, where));
    return false;
}

Result<void> walk_blocks(Ext2Fs& fs, const InodeData& dir, std::uint64_t cookie,
                         const RecordVisitor& visit) {
    const Geometry& g = fs.geometry();
    if (dir.size > g.blocks_count * g.block_size)
        return Error::corrupt(dir.what(), fmt::format("directory size {} is larger than the "
                                                      "file system",
                                                      dir.size));
    const std::uint64_t nblocks = (dir.size + g.block_size - 1) >> g.log_block_size;
    std::uint64_t lblock = cookie >> g.log_block_size;
    while (lblock < nblocks) {
        const Run run = UKFS_TRY(map_block(fs, dir, lblock));
        const std::uint64_t n = std::min(run.count, nblocks - lblock);
        for (std::uint64_t k = 0; k < n && !run.hole(); ++k) {
            const std::string where =
                fmt::format("ext2fs: directory inode {}, block {}", dir.ino, lblock + k);
            io::BufRef buf = UKFS_TRY(fs.block(run.pblock + k, where));
            const ByteView block(buf.data(), "ext2fs: directory block");
            const bool verified = fs.checksum_verified(run.pblock + k);
            const bool dx = UKFS_TRY(check_dir_block(g, dir, lblock + k, block, where, verified));
            if (!verified)
                fs.set_checksum_verified(run.pblock + k);
            if (dx && lblock + k != 0)
                continue;  // an interior hash tree node holds no entries
            const Region r{block, (lblock + k) << g.log_block_size, where, g.block_size == 65536};
            if (!UKFS_TRY(walk_region(g, r, cookie, visit)))
                return {};
        }
        lblock += n;  // a hole in a directory is skipped, as e2fsck would have it read
    }
    return {};
}

Result<void> walk_inline(const Geometry& g, const InodeData& dir, std::uint64_t cookie,
                         const RecordVisitor& visit) {
    const std::vector<std::byte> bytes = UKFS_TRY(inline_content(dir));
    const std::string where = fmt::format("ext2fs: directory inode {}, inline", dir.ino);
    const ByteView all(std::span<const std::byte>(bytes), "ext2fs: inline directory");
    const std::uint64_t area1 = i_block_bytes - inline_dir_parent_size;
    const Region first{UKFS_TRY(all.sub(inline_dir_parent_size, area1)), inline_first, where};
    if (!UKFS_TRY(walk_region(g, first, cookie, visit)))
        return {};
    if (bytes.size() == i_block_bytes)
        return {};
    const Region second{UKFS_TRY(all.sub(i_block_bytes, bytes.size() - i_block_bytes)),
                        inline_first + area1, where};
    UKFS_TRY(walk_region(g, second, cookie, visit));
    return {};
}

}  // namespace

Result<void> verify_dx_node(const InodeData& dir, ByteView block, std::uint64_t count_offset,
                            const std::string& where) {
    const DxCountLimit cl = UKFS_TRY(block.read<DxCountLimit>(count_offset));
    const std::uint64_t tail_at = count_offset + std::uint64_t{cl.limit.get()} * sizeof(DxEntry);
    if (cl.count.get() > cl.limit.get())
        return Error::corrupt(where, fmt::format("hash tree count {} is above its limit {}",
                                                 cl.count.get(), cl.limit.get()));
    const DxTail tail = UKFS_TRY(block.read<DxTail>(tail_at));
    const std::uint64_t used = count_offset + std::uint64_t{cl.count.get()} * sizeof(DxEntry);
    std::uint32_t c = crc32c_update(dir.csum_seed, block.span().first(used));
    c = crc32c_update(c, block.span().subspan(tail_at, 4));
    constexpr std::byte zero[4]{};
    c = crc32c_update(c, zero);
    return check_csum(tail.dt_checksum.get(), c, where);
}

Result<void> verify_leaf(const InodeData& dir, ByteView block, const std::string& where) {
    const std::uint64_t tail_at = block.size() - sizeof(DirEntryTail);
    const DirEntryTail t = UKFS_TRY(block.read<DirEntryTail>(tail_at));
    if (t.det_reserved_zero1.get() != 0 || t.det_rec_len.get() != sizeof(DirEntryTail) ||
        t.det_reserved_ft != ft_dir_csum)
        return Error::corrupt(where, "has no checksum tail (metadata_csum)");
    const std::uint32_t c = crc32c_update(dir.csum_seed, block.span().first(tail_at));
    return check_csum(t.det_checksum.get(), c, where);
}

Result<EntryAt> entry_at(const Geometry& g, ByteView block, std::uint64_t off,
                         const std::string& where) {
    const Region r{block, 0, where, g.block_size == 65536};
    const DirEntryHeader h = UKFS_TRY(block.read<DirEntryHeader>(off));
    const std::uint32_t rec_len = rec_len_from_disk(h.rec_len.get(), r);
    UKFS_TRY(check_entry(g, r, off, h, rec_len));
    return EntryAt{h, rec_len};
}

VType file_type_to_vtype(std::uint8_t ft) {
    switch (ft) {
    case ft_reg_file: return VType::reg;
    case ft_dir: return VType::dir;
    case ft_chrdev: return VType::chr;
    case ft_blkdev: return VType::blk;
    case ft_fifo: return VType::fifo;
    case ft_sock: return VType::sock;
    case ft_symlink: return VType::lnk;
    default: return VType::none;
    }
}

Result<void> walk_dir(Ext2Fs& fs, const InodeData& dir, std::uint64_t cookie,
                      const RecordVisitor& visit) {
    if (dir.type != VType::dir)
        return Error::sys(ENOTDIR);
    if (dir.inline_data())
        return walk_inline(fs.geometry(), dir, cookie, visit);
    return walk_blocks(fs, dir, cookie, visit);
}

namespace {

Result<InodeNo> inline_parent(const Geometry& g, const InodeData& dir) {
    const std::uint32_t parent = dir.i_block_word(0);
    if (parent == 0 || parent > g.inodes_count)
        return Error::corrupt(dir.what(),
                              fmt::format("inline parent inode {} is out of range", parent));
    return InodeNo{parent};
}

}  // namespace

Result<InodeNo> dir_lookup(Ext2Fs& fs, const InodeData& dir, std::string_view name) {
    if (dir.type == VType::dir && dir.inline_data()) {
        if (name == ".")
            return InodeNo{dir.ino};
        if (name == "..")
            return inline_parent(fs.geometry(), dir);
    }
    if (dir.type == VType::dir && !dir.inline_data() && dir.has_flag(inode_index_fl) &&
        fs.geometry().has_compat(compat_dir_index) && name != "." && name != "..")
        return dx_lookup(fs, dir, name);
    InodeNo found = 0;
    UKFS_TRY(walk_dir(fs, dir, 0, [&](const DirRecord& rec) -> Result<bool> {
        if (rec.name != name)
            return true;
        found = rec.inode;
        return false;
    }));
    if (found == 0)
        return Error::sys(ENOENT);
    return found;
}

Result<void> dir_list(Ext2Fs& fs, const InodeData& dir, std::uint64_t cookie,
                      const vfs::DirVisitor& visit) {
    if (dir.type == VType::dir && dir.inline_data()) {
        if (cookie == 0 && !visit(vfs::DirEntry{dir.ino, VType::dir, "."}, 1))
            return {};
        const InodeNo parent = UKFS_TRY(inline_parent(fs.geometry(), dir));
        if (cookie <= 1 && !visit(vfs::DirEntry{parent, VType::dir, ".."}, inline_first))
            return {};
        cookie = std::max(cookie, inline_first);
    }
    return walk_dir(fs, dir, cookie, [&](const DirRecord& rec) -> Result<bool> {
        VType type = file_type_to_vtype(rec.file_type);
        if (type == VType::none) {  // no filetype feature: ask the inode
            auto child = load_inode(fs, rec.inode);
            if (child)
                type = child->type;
        }
        return visit(vfs::DirEntry{rec.inode, type, rec.name}, rec.next);
    });
}

}  // namespace uk::ext2fs
