// Hash tree directories (see htree.hpp).
#include "fs/ext2fs/htree.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/crc32c.hpp"
#include "fs/ext2fs/bmap.hpp"
#include "fs/ext2fs/dir.hpp"
#include "fs/ext2fs/dx_hash.hpp"

namespace uk::ext2fs {

namespace {

constexpr std::uint32_t root_entries_at = dx_root_info_offset + sizeof(DxRootInfo);  // 32
constexpr std::uint32_t node_entries_at = dirent_header_size;                        // 8

std::uint32_t ld32(std::span<const std::byte> b, std::size_t off) {
    le32 v;
    std::memcpy(&v, b.data() + off, sizeof v);
    return v.get();
}
void st32(std::span<std::byte> b, std::size_t off, std::uint32_t x) {
    le32 v;
    v.set(x);
    std::memcpy(b.data() + off, &v, sizeof v);
}
void st16(std::span<std::byte> b, std::size_t off, std::uint16_t x) {
    le16 v;
    v.set(x);
    std::memcpy(b.data() + off, &v, sizeof v);
}

std::uint32_t tail_room(const Geometry& g) {
    return g.metadata_csum() ? static_cast<std::uint32_t>(sizeof(DxTail)) : 0;
}
std::uint32_t limit_at(const Geometry& g, std::uint32_t entries_at) {
    return (g.block_size - entries_at - tail_room(g)) / 8;  // sizeof(DxEntry)
}
// Index levels the root may have under it (indirect_levels is below this).
std::uint32_t max_levels(const Geometry& g) {
    return g.has_incompat(incompat_largedir) ? 3 : 2;
}

std::uint64_t dir_blocks(const Geometry& g, const InodeData& dir) {
    return (dir.size + g.block_size - 1) >> g.log_block_size;
}

// One index node on a path from the root.
struct Frame {
    std::uint64_t lblock = 0;
    io::BufRef buf;
    std::uint32_t entries_at = 0;  // where the DxCountLimit (entry 0) sits
    std::uint32_t count = 0;
    std::uint32_t limit = 0;
    std::uint32_t at = 0;  // the entry the path goes through
    std::string where;

    std::uint32_t hash(std::uint32_t i) const { return ld32(buf.data(), entries_at + 8 * i); }
    std::uint32_t child(std::uint32_t i) const { return ld32(buf.data(), entries_at + 8 * i + 4); }
};

// The root's settings, checked.
struct Tree {
    std::uint8_t version = 0;  // hash version with the unsigned delta applied
    std::uint32_t levels = 0;  // indirect_levels
};

Result<io::BufRef> read_block(Ext2Fs& fs, const InodeData& dir, std::uint64_t lblock,
                              const std::string& where) {
    const Run run = UKFS_TRY(map_block(fs, dir, lblock));
    if (run.hole())
        return Error::corrupt(where, "is a hole in the directory");
    return fs.block(run.pblock, where);
}

std::string node_where(const InodeData& dir, std::uint64_t lblock) {
    return fmt::format("ext2fs: directory inode {}, hash tree {} {}", dir.ino,
                       lblock == 0 ? "root" : "node", lblock);
}

// Read and check index node `lblock` (the root when 0).
Result<Frame> read_node(Ext2Fs& fs, const InodeData& dir, std::uint64_t lblock) {
    const Geometry& g = fs.geometry();
    Frame f;
    f.lblock = lblock;
    f.where = node_where(dir, lblock);
    f.buf = UKFS_TRY(read_block(fs, dir, lblock, f.where));
    const ByteView v(f.buf.data(), "ext2fs: hash tree node");
    if (lblock == 0) {
        f.entries_at = root_entries_at;
    } else {
        const EntryAt e = UKFS_TRY(entry_at(g, v, 0, f.where));
        if (e.h.inode.get() != 0 || e.h.name_len != 0 || e.rec_len != g.block_size)
            return Error::corrupt(f.where, "is not a hash tree node (its first entry does not "
                                           "span the block)");
        f.entries_at = node_entries_at;
    }
    const DxCountLimit cl = UKFS_TRY(v.read<DxCountLimit>(f.entries_at));
    f.count = cl.count.get();
    f.limit = cl.limit.get();
    const std::uint32_t want = limit_at(g, f.entries_at);
    if (f.limit != want)
        return Error::corrupt(f.where, fmt::format("hash tree limit {} is not {} (block size {})",
                                                   f.limit, want, g.block_size));
    if (f.count == 0 || f.count > f.limit)
        return Error::corrupt(f.where,
                              fmt::format("hash tree count {} is not in 1..{}", f.count, f.limit));
    if (g.metadata_csum() && !fs.checksum_verified(f.buf.block())) {
        UKFS_TRY(verify_dx_node(dir, v, f.entries_at, f.where));
        fs.set_checksum_verified(f.buf.block());
    }
    const std::uint64_t nblocks = dir_blocks(g, dir);
    for (std::uint32_t i = 0; i < f.count; ++i) {
        const std::uint32_t b = f.child(i);
        if (b == 0 || b >= nblocks)
            return Error::corrupt(f.where, fmt::format("hash tree entry {} points at block {}, "
                                                       "outside the directory ({} blocks)",
                                                       i, b, nblocks));
        if (i >= 2 && f.hash(i) < f.hash(i - 1))
            return Error::corrupt(f.where, fmt::format("hash tree hashes are not sorted at "
                                                       "entry {}",
                                                       i));
    }
    return f;
}

// The root's "." and ".." and DxRootInfo, checked.
Result<Tree> open_tree(Ext2Fs& fs, const InodeData& dir) {
    const Geometry& g = fs.geometry();
    const std::string where = node_where(dir, 0);
    if (dir.size > g.blocks_count * g.block_size || dir.size < g.block_size)
        return Error::corrupt(dir.what(), fmt::format("indexed directory size {} is out of "
                                                      "range",
                                                      dir.size));
    io::BufRef buf = UKFS_TRY(read_block(fs, dir, 0, where));
    const ByteView v(buf.data(), "ext2fs: hash tree root");
    const EntryAt dot = UKFS_TRY(entry_at(g, v, 0, where));
    if (dot.rec_len != entry_size(1) || dot.h.name_len != 1)
        return Error::corrupt(where, "hash tree root does not start with a 12-byte \".\"");
    const EntryAt dotdot = UKFS_TRY(entry_at(g, v, dot.rec_len, where));
    if (dotdot.h.name_len != 2 || dotdot.rec_len != g.block_size - dot.rec_len)
        return Error::corrupt(where, "hash tree root's \"..\" does not span the block");
    const DxRootInfo info = UKFS_TRY(v.read<DxRootInfo>(dx_root_info_offset));
    if (info.info_length != sizeof(DxRootInfo))
        return Error::corrupt(where, fmt::format("hash tree info length {} is not {}",
                                                 info.info_length, sizeof(DxRootInfo)));
    if ((info.unused_flags & dx_flag_incompat) != 0)
        return Error::corrupt(where, "hash tree has the incompatible flag set");
    if (info.hash_version > dx_hash_tea)
        return Error::corrupt(
            where, fmt::format("hash tree hash version {} is not supported", info.hash_version));
    if (info.indirect_levels >= max_levels(g))
        return Error::corrupt(where, fmt::format("hash tree depth {} is above the limit {}",
                                                 info.indirect_levels, max_levels(g) - 1));
    Tree t;
    t.version = static_cast<std::uint8_t>(info.hash_version +
                                          (g.hash_unsigned ? dx_hash_unsigned_delta : 0));
    t.levels = info.indirect_levels;
    return t;
}

std::uint32_t name_hash(const Geometry& g, const Tree& t, std::string_view name) {
    return dx_hash(t.version, g.hash_seed, name).hash;
}

// The path from the root to the leaf that holds `hash`: in each node, the last entry whose
// hash is at most `hash` (entry 0 covers everything below entry 1).
Result<std::vector<Frame>> probe(Ext2Fs& fs, const InodeData& dir, const Tree& t,
                                 std::uint32_t hash) {
    std::vector<Frame> path;
    path.reserve(t.levels + 1);
    std::uint64_t lblock = 0;
    for (;;) {
        path.push_back(UKFS_TRY(read_node(fs, dir, lblock)));
        Frame& f = path.back();
        std::uint32_t lo = 1;
        std::uint32_t hi = f.count;  // [lo, hi): entries not yet decided
        while (lo < hi) {
            const std::uint32_t mid = lo + (hi - lo) / 2;
            if (f.hash(mid) > hash)
                hi = mid;
            else
                lo = mid + 1;
        }
        f.at = lo - 1;
        if (path.size() > t.levels)
            return path;
        lblock = f.child(f.at);
    }
}

std::uint64_t leaf_of(const std::vector<Frame>& path) {
    return path.back().child(path.back().at);
}

// Move `path` to the next leaf if it continues `hash` (collision bit or equal hash); false at
// the end. The position only moves forward, so a walk ends.
Result<bool> next_leaf(Ext2Fs& fs, const InodeData& dir, std::vector<Frame>& path,
                       std::uint32_t hash) {
    std::size_t i = path.size();
    while (i > 0 && path[i - 1].at + 1 >= path[i - 1].count)
        --i;
    if (i == 0)
        return false;
    Frame& f = path[i - 1];
    if ((f.hash(f.at + 1) & ~1u) != hash)
        return false;
    ++f.at;
    for (std::size_t j = i; j < path.size(); ++j) {
        path[j] = UKFS_TRY(read_node(fs, dir, path[j - 1].child(path[j - 1].at)));
        path[j].at = 0;
    }
    return true;
}

Result<io::BufRef> read_leaf(Ext2Fs& fs, const InodeData& dir, std::uint64_t lblock,
                             std::string& where) {
    where = fmt::format("ext2fs: directory inode {}, block {}", dir.ino, lblock);
    io::BufRef buf = UKFS_TRY(read_block(fs, dir, lblock, where));
    if (fs.geometry().metadata_csum() && !fs.checksum_verified(buf.block())) {
        UKFS_TRY(verify_leaf(dir, ByteView(buf.data(), "ext2fs: directory block"), where));
        fs.set_checksum_verified(buf.block());
    }
    return buf;
}

struct Hit {
    std::uint32_t off;
    std::int64_t prev;
    std::uint32_t rec_len;
    std::uint32_t ino;
};

Result<std::optional<Hit>> scan_leaf(const Geometry& g, const io::BufRef& buf,
                                     const std::string& where, std::string_view name) {
    const ByteView view(buf.data(), "ext2fs: directory block");
    std::int64_t prev = -1;
    for (std::uint32_t off = 0; off < g.block_size;) {
        const EntryAt e = UKFS_TRY(entry_at(g, view, off, where));
        const auto* p = reinterpret_cast<const char*>(view.data() + off + sizeof e.h);
        if (e.h.inode.get() != 0 && std::string_view(p, e.h.name_len) == name)
            return Hit{off, prev, e.rec_len, e.h.inode.get()};
        prev = off;
        off += e.rec_len;
    }
    return std::nullopt;
}

// Find `name`: the leaf (in `buf`) and where in it.
Result<std::optional<Hit>> find(Ext2Fs& fs, const InodeData& dir, std::string_view name,
                                io::BufRef& buf) {
    const Tree t = UKFS_TRY(open_tree(fs, dir));
    const std::uint32_t hash = name_hash(fs.geometry(), t, name);
    std::vector<Frame> path = UKFS_TRY(probe(fs, dir, t, hash));
    do {
        std::string where;
        buf = UKFS_TRY(read_leaf(fs, dir, leaf_of(path), where));
        const std::optional<Hit> hit = UKFS_TRY(scan_leaf(fs.geometry(), buf, where, name));
        if (hit)
            return hit;
    } while (UKFS_TRY(next_leaf(fs, dir, path, hash)));
    return std::nullopt;
}

// Write the dx_tail checksum of an index node (metadata_csum).
void seal_node(const Geometry& g, const InodeData& dir, std::span<std::byte> b,
               std::uint32_t entries_at) {
    if (!g.metadata_csum())
        return;
    const std::uint32_t limit = ld32(b, entries_at) & 0xFFFF;
    const std::uint32_t count = ld32(b, entries_at) >> 16;
    const std::size_t tail_at = entries_at + std::size_t{limit} * sizeof(DxEntry);
    std::uint32_t c = crc32c_update(dir.csum_seed, b.first(entries_at + std::size_t{count} * 8));
    c = crc32c_update(c, b.subspan(tail_at, 4));
    constexpr std::byte zero[4]{};
    c = crc32c_update(c, zero);
    st32(b, tail_at + 4, c);
}

void set_count(std::span<std::byte> b, std::uint32_t entries_at, std::uint32_t count) {
    st16(b, entries_at + offsetof(DxCountLimit, count), static_cast<std::uint16_t>(count));
}

// Insert (hash, block) after the entry `f` goes through.
void insert_entry(Ext2Fs& fs, const InodeData& dir, Frame& f, std::uint32_t hash,
                  std::uint32_t block) {
    std::span<std::byte> b = f.buf.mark_dirty();
    const std::size_t at = f.entries_at + std::size_t{f.at + 1} * 8;
    const std::size_t end = f.entries_at + std::size_t{f.count} * 8;
    std::memmove(b.data() + at + 8, b.data() + at, end - at);
    st32(b, at, hash);
    st32(b, at + 4, block);
    ++f.count;
    set_count(b, f.entries_at, f.count);
    seal_node(fs.geometry(), dir, b, f.entries_at);
    fs.set_checksum_verified(f.buf.block());
}

// A new zeroed block at the end of `dir`.
Result<std::pair<std::uint32_t, io::BufRef>> append_block(Ext2Fs& fs, InodeData& dir) {
    const Geometry& g = fs.geometry();
    const std::uint64_t lblock = dir_blocks(g, dir);
    if (lblock >= 0xFFFFFFFFu)
        return Error::sys(EFBIG, dir.what() + ": directory is too large");
    const AllocRun run = UKFS_TRY(map_alloc(fs, dir, lblock, 1));
    io::BufRef buf = UKFS_TRY(fs.cache().get_zeroed(run.pblock));
    fs.set_checksum_verified(run.pblock);
    dir.size = (lblock + 1) << g.log_block_size;
    return std::pair{static_cast<std::uint32_t>(lblock), std::move(buf)};
}

// A new index node: the fake entry spanning the block, then `count` entries from `src`.
void fill_node(const Geometry& g, const InodeData& dir, std::span<std::byte> b,
               std::span<const std::byte> src, std::uint32_t count) {
    st16(b, offsetof(DirEntryHeader, rec_len), rec_len_to_disk(g, g.block_size));
    std::memcpy(b.data() + node_entries_at, src.data(), std::size_t{count} * 8);
    st16(b, node_entries_at + offsetof(DxCountLimit, limit),
         static_cast<std::uint16_t>(limit_at(g, node_entries_at)));
    set_count(b, node_entries_at, count);
    seal_node(g, dir, b, node_entries_at);
}

// The index node at the end of `path` is full: split the lowest node on the path whose parent
// has room, or add a level under the root when every node on the path is full.
Result<void> grow_index(Ext2Fs& fs, InodeData& dir, const Tree& t, std::vector<Frame>& path) {
    const Geometry& g = fs.geometry();
    std::size_t k = path.size() - 1;
    while (k > 0 && path[k - 1].count == path[k - 1].limit)
        --k;
    if (k == 0) {
        if (t.levels + 1 >= max_levels(g))
            return Error::sys(ENOSPC, fmt::format("{}: directory index full (hash tree depth "
                                                  "{})",
                                                  dir.what(), t.levels));
        Frame& root = path[0];
        auto [lb, nbuf] = UKFS_TRY(append_block(fs, dir));
        fill_node(g, dir, nbuf.mark_dirty(),
                  root.buf.data().subspan(root.entries_at, std::size_t{root.count} * 8),
                  root.count);
        std::span<std::byte> b = root.buf.mark_dirty();
        set_count(b, root.entries_at, 1);
        st32(b, root.entries_at + 4, lb);
        b[dx_root_info_offset + offsetof(DxRootInfo, indirect_levels)] =
            static_cast<std::byte>(t.levels + 1);
        seal_node(g, dir, b, root.entries_at);
        fs.set_checksum_verified(root.buf.block());
        return {};
    }
    Frame& f = path[k];
    const std::uint32_t keep = f.count / 2;
    const std::uint32_t hash2 = f.hash(keep);
    auto [lb, nbuf] = UKFS_TRY(append_block(fs, dir));
    fill_node(
        g, dir, nbuf.mark_dirty(),
        f.buf.data().subspan(f.entries_at + std::size_t{keep} * 8, std::size_t{f.count - keep} * 8),
        f.count - keep);
    std::span<std::byte> b = f.buf.mark_dirty();
    f.count = keep;
    set_count(b, f.entries_at, keep);
    seal_node(g, dir, b, f.entries_at);
    fs.set_checksum_verified(f.buf.block());
    insert_entry(fs, dir, path[k - 1], hash2, lb);
    return {};
}

struct Moved {
    std::uint32_t hash;
    std::vector<std::byte> raw;  // header and name
};

// Write `list` into a leaf's entry area, each entry as small as it can be, the last one
// taking the rest (an empty list: one unused entry spanning the area); then the tail.
void write_leaf(const Geometry& g, const InodeData& dir, std::span<std::byte> b,
                const std::vector<Moved>& list, std::size_t from, std::size_t to) {
    const std::uint32_t area = leaf_usable(g);
    std::fill(b.begin(), b.begin() + area, std::byte{0});
    std::uint32_t off = 0;
    std::uint32_t last = 0;
    for (std::size_t i = from; i < to; ++i) {
        std::memcpy(b.data() + off, list[i].raw.data(), list[i].raw.size());
        const std::uint32_t len = entry_size(list[i].raw.size() - dirent_header_size);
        set_rec_len(g, b, off, len);
        last = off;
        off += len;
    }
    set_rec_len(g, b, last, area - last);
    seal_leaf(g, dir, b);
}

// The leaf `leaf` has no room for `name`: split it by hash into itself and a new block, as the
// kernel's do_split does, index the new block, and put the entry into the half its hash
// belongs to.
Result<void> split_leaf(Ext2Fs& fs, InodeData& dir, const Tree& t, std::vector<Frame>& path,
                        io::BufRef& leaf, const std::string& where, std::string_view name,
                        std::uint32_t hash, std::uint32_t ino, VType type) {
    const Geometry& g = fs.geometry();
    const ByteView view(leaf.data(), "ext2fs: directory block");
    std::vector<Moved> list;
    for (std::uint32_t off = 0; off < leaf_usable(g);) {
        const EntryAt e = UKFS_TRY(entry_at(g, view, off, where));
        if (e.h.inode.get() != 0) {
            const auto* p = reinterpret_cast<const char*>(view.data() + off + sizeof e.h);
            const auto bytes = view.span().subspan(off, dirent_header_size + e.h.name_len);
            list.push_back(Moved{name_hash(g, t, std::string_view(p, e.h.name_len)),
                                 std::vector<std::byte>(bytes.begin(), bytes.end())});
        }
        off += e.rec_len;
    }
    std::stable_sort(list.begin(), list.end(),
                     [](const Moved& a, const Moved& b) { return a.hash < b.hash; });
    if (list.size() < 2) {
        // Nothing to split (free space scattered around one entry): pack and retry.
        write_leaf(g, dir, leaf.mark_dirty(), list, 0, list.size());
        if (!UKFS_TRY(put_in_leaf(g, dir, leaf, where, name, ino, type)))
            return Error::corrupt(where, "has no room for an entry after packing");
        return {};
    }
    // Move entries from the top while more than half of each lands in the upper half.
    std::size_t move = 0;
    std::uint32_t size = 0;
    for (std::size_t i = list.size(); i-- > 0;) {
        const std::uint32_t len = entry_size(list[i].raw.size() - dirent_header_size);
        if (size + len / 2 > g.block_size / 2)
            break;
        size += len;
        ++move;
    }
    const std::size_t split = std::clamp<std::size_t>(list.size() - move, 1, list.size() - 1);
    const std::uint32_t hash2 = list[split].hash;
    const bool continued = hash2 == list[split - 1].hash;
    auto [lb, nbuf] = UKFS_TRY(append_block(fs, dir));
    write_leaf(g, dir, nbuf.mark_dirty(), list, split, list.size());
    write_leaf(g, dir, leaf.mark_dirty(), list, 0, split);
    fs.set_checksum_verified(leaf.block());
    insert_entry(fs, dir, path.back(), hash2 | (continued ? 1u : 0u), lb);
    io::BufRef& target = hash >= hash2 ? nbuf : leaf;
    if (!UKFS_TRY(put_in_leaf(g, dir, target, where, name, ino, type)))
        return Error::corrupt(where, "has no room for an entry after a split");
    return {};
}

}  // namespace

Result<InodeNo> dx_lookup(Ext2Fs& fs, const InodeData& dir, std::string_view name) {
    io::BufRef buf;
    const std::optional<Hit> hit = UKFS_TRY(find(fs, dir, name, buf));
    if (!hit)
        return Error::sys(ENOENT);
    return InodeNo{hit->ino};
}

Result<bool> dx_find(Ext2Fs& fs, const InodeData& dir, std::string_view name,
                     const LeafEntryFn& fn) {
    io::BufRef buf;
    const std::optional<Hit> hit = UKFS_TRY(find(fs, dir, name, buf));
    if (!hit)
        return false;
    UKFS_TRY(fn(buf, hit->off, hit->prev, hit->rec_len));
    fs.set_checksum_verified(buf.block());
    return true;
}

Result<void> dx_add(Ext2Fs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                    VType type) {
    const Geometry& g = fs.geometry();
    // Each round either places the entry or grows the index by one node; the depth bound
    // ends the rounds.
    for (int round = 0; round < 8; ++round) {
        const Tree t = UKFS_TRY(open_tree(fs, dir));
        const std::uint32_t hash = name_hash(g, t, name);
        std::vector<Frame> path = UKFS_TRY(probe(fs, dir, t, hash));
        std::string where;
        io::BufRef leaf = UKFS_TRY(read_leaf(fs, dir, leaf_of(path), where));
        if (UKFS_TRY(put_in_leaf(g, dir, leaf, where, name, ino, type))) {
            fs.set_checksum_verified(leaf.block());
            return {};
        }
        if (path.back().count < path.back().limit)
            return split_leaf(fs, dir, t, path, leaf, where, name, hash, ino, type);
        UKFS_TRY(grow_index(fs, dir, t, path));
    }
    return Error::corrupt(dir.what(), "hash tree did not take a new entry");
}

Result<bool> dx_make_indexed(Ext2Fs& fs, InodeData& dir) {
    const Geometry& g = fs.geometry();
    if (g.def_hash_version > dx_hash_tea || dir.size != g.block_size)
        return false;
    std::string where;
    io::BufRef root = UKFS_TRY(read_leaf(fs, dir, 0, where));
    const ByteView view(root.data(), "ext2fs: directory block");
    const EntryAt dot = UKFS_TRY(entry_at(g, view, 0, where));
    if (dot.rec_len != entry_size(1) || dot.h.name_len != 1)
        return false;
    const EntryAt dotdot = UKFS_TRY(entry_at(g, view, dot.rec_len, where));
    if (dotdot.h.name_len != 2)
        return false;
    std::vector<Moved> list;
    for (std::uint32_t off = dot.rec_len + dotdot.rec_len; off < leaf_usable(g);) {
        const EntryAt e = UKFS_TRY(entry_at(g, view, off, where));
        if (e.h.inode.get() != 0) {
            const auto bytes = view.span().subspan(off, dirent_header_size + e.h.name_len);
            list.push_back(Moved{0, std::vector<std::byte>(bytes.begin(), bytes.end())});
        }
        off += e.rec_len;
    }
    auto [lb, leaf] = UKFS_TRY(append_block(fs, dir));
    write_leaf(g, dir, leaf.mark_dirty(), list, 0, list.size());
    std::span<std::byte> b = root.mark_dirty();
    const std::uint32_t keep = dot.rec_len + entry_size(2);
    std::fill(b.begin() + keep, b.end(), std::byte{0});
    set_rec_len(g, b, dot.rec_len, g.block_size - dot.rec_len);
    b[dx_root_info_offset + offsetof(DxRootInfo, hash_version)] =
        static_cast<std::byte>(g.def_hash_version);
    b[dx_root_info_offset + offsetof(DxRootInfo, info_length)] =
        static_cast<std::byte>(sizeof(DxRootInfo));
    st16(b, root_entries_at + offsetof(DxCountLimit, limit),
         static_cast<std::uint16_t>(limit_at(g, root_entries_at)));
    set_count(b, root_entries_at, 1);
    st32(b, root_entries_at + 4, lb);
    seal_node(g, dir, b, root_entries_at);
    fs.set_checksum_verified(root.block());
    dir.flags |= inode_index_fl;
    return true;
}

Result<void> dx_set_parent(Ext2Fs& fs, const InodeData& dir, std::uint32_t ino, std::uint8_t ft) {
    const Geometry& g = fs.geometry();
    UKFS_TRY(open_tree(fs, dir));  // "." and ".." where they must be
    Frame root = UKFS_TRY(read_node(fs, dir, 0));
    std::span<std::byte> b = root.buf.mark_dirty();
    const std::size_t at = entry_size(1);
    st32(b, at, ino);
    if (g.has_incompat(incompat_filetype))
        b[at + offsetof(DirEntryHeader, file_type)] = static_cast<std::byte>(ft);
    seal_node(g, dir, b, root.entries_at);
    fs.set_checksum_verified(root.buf.block());
    return {};
}

}  // namespace uk::ext2fs
