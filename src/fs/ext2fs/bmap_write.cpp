// Block mapping for writers (see bmap.hpp): allocation into holes, conversion
// of unwritten extents, truncation. Facts: kernel ext4 ifork.rst ("Extent
// Tree": node layout, eh_max, unwritten extents above 32768 blocks),
// blockmap.rst (direct and indirect blocks).
//
// Extent-mapped files are changed through their whole extent list: read every
// extent, change the list, write the tree anew into the tree blocks it had
// (allocating or freeing the difference). That is O(extents) per change, cheap
// for the few extents a file written by this allocator has (one per 128 MiB of
// contiguous data); a file with thousands of extents pays for each change, and
// a B-tree update in place is the better answer if that matters.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "base/crc32c.hpp"
#include "fs/ext2fs/bmap.hpp"

namespace uk::ext2fs {

namespace {

constexpr std::uint64_t max_init_len = init_max_len;           // 32768
constexpr std::uint64_t max_unwritten_len = init_max_len - 1;  // 32767

struct ExtentRec {
    std::uint64_t lblock;
    std::uint64_t len;
    std::uint64_t pblock;
    bool unwritten;
    std::uint64_t end() const { return lblock + len; }
};

struct ExtentList {
    std::vector<ExtentRec> extents;          // sorted, not overlapping
    std::vector<std::uint64_t> nodes;        // the tree's blocks (not the root in i_block)
    std::unordered_set<std::uint64_t> seen;  // nodes, for finding a block met twice
};

std::uint64_t blocks_512(const Geometry& g, std::uint64_t blocks) {
    return blocks * (g.block_size / 512);
}

Result<void> collect(Ext2Fs& fs, const InodeData& inode, ByteView node, int expected,
                     const std::string& what, ExtentList& out) {
    const Geometry& g = fs.geometry();
    const ExtentHeader h = UKFS_TRY(read_extent_header(node, expected, what));
    const int depth = h.eh_depth.get();
    for (std::uint32_t i = 0; i < h.eh_entries.get(); ++i) {
        const std::uint64_t at = sizeof h + std::uint64_t{i} * sizeof(Extent);
        if (depth == 0) {
            const Extent e = UKFS_TRY(node.read<Extent>(at));
            std::uint64_t len = e.ee_len.get();
            const bool unwritten = len > init_max_len;
            if (unwritten)
                len -= init_max_len;
            const ExtentRec r{e.ee_block.get(), len,
                              e.ee_start_lo.get() | std::uint64_t{e.ee_start_hi.get()} << 32,
                              unwritten};
            const std::uint64_t prev_end = out.extents.empty() ? 0 : out.extents.back().end();
            if (len == 0 || r.lblock < prev_end || r.end() > extent_space)
                return Error::corrupt(what, fmt::format("extent {} (block {}, length {}) is "
                                                        "invalid",
                                                        i, r.lblock, len));
            UKFS_TRY(g.check_blocks(r.pblock, len, fmt::format("{}: extent {}", what, i)));
            out.extents.push_back(r);
            continue;
        }
        const ExtentIndex x = UKFS_TRY(node.read<ExtentIndex>(at));
        const std::uint64_t child = x.ei_leaf_lo.get() | std::uint64_t{x.ei_leaf_hi.get()} << 32;
        const std::string child_what = fmt::format("{}: extent block {}", inode.what(), child);
        io::BufRef buf = UKFS_TRY(fs.block(child, child_what));
        if (!out.seen.insert(child).second)
            return Error::corrupt(child_what, "is referenced twice in the extent tree");
        out.nodes.push_back(child);
        const ByteView child_node(buf.data(), "ext2fs: extent block");
        const ExtentHeader ch = UKFS_TRY(read_extent_header(child_node, depth - 1, child_what));
        if (!fs.checksum_verified(child)) {
            UKFS_TRY(verify_extent_block(g, inode, child_node, ch, child_what));
            fs.set_checksum_verified(child);
        }
        UKFS_TRY(collect(fs, inode, child_node, depth - 1, child_what, out));
    }
    return {};
}

Result<ExtentList> read_extents(Ext2Fs& fs, const InodeData& inode) {
    ExtentList list;
    const ByteView root(std::span<const std::byte>(inode.i_block), "ext2fs: extent root");
    UKFS_TRY(collect(fs, inode, root, -1, inode.what() + ": extent root", list));
    return list;
}

void merge(std::vector<ExtentRec>& v) {
    std::vector<ExtentRec> out;
    for (const ExtentRec& e : v) {
        if (!out.empty()) {
            ExtentRec& p = out.back();
            const std::uint64_t cap = p.unwritten ? max_unwritten_len : max_init_len;
            if (p.unwritten == e.unwritten && p.end() == e.lblock && p.pblock + p.len == e.pblock &&
                p.len + e.len <= cap) {
                p.len += e.len;
                continue;
            }
        }
        out.push_back(e);
    }
    v = std::move(out);
}

void put_header(std::span<std::byte> node, std::size_t entries, std::size_t max, int depth) {
    ExtentHeader h{};
    h.eh_magic.set(extent_magic);
    h.eh_entries.set(static_cast<std::uint16_t>(entries));
    h.eh_max.set(static_cast<std::uint16_t>(max));
    h.eh_depth.set(static_cast<std::uint16_t>(depth));
    std::memcpy(node.data(), &h, sizeof h);
}

void put_extent(std::span<std::byte> node, std::size_t i, const ExtentRec& r) {
    Extent e{};
    e.ee_block.set(static_cast<std::uint32_t>(r.lblock));
    e.ee_len.set(static_cast<std::uint16_t>(r.len + (r.unwritten ? init_max_len : 0)));
    e.ee_start_lo.set(static_cast<std::uint32_t>(r.pblock));
    e.ee_start_hi.set(static_cast<std::uint16_t>(r.pblock >> 32));
    std::memcpy(node.data() + sizeof(ExtentHeader) + i * sizeof e, &e, sizeof e);
}

// An index entry: the first file block below it and the child node.
struct IndexRec {
    std::uint64_t lblock;
    std::uint64_t child;
};

void put_index(std::span<std::byte> node, std::size_t i, const IndexRec& r) {
    ExtentIndex x{};
    x.ei_block.set(static_cast<std::uint32_t>(r.lblock));
    x.ei_leaf_lo.set(static_cast<std::uint32_t>(r.child));
    x.ei_leaf_hi.set(static_cast<std::uint16_t>(r.child >> 32));
    std::memcpy(node.data() + sizeof(ExtentHeader) + i * sizeof x, &x, sizeof x);
}

// Write `list` as the inode's extent tree: the root in i_block, tree blocks
// from list.nodes first, more allocated when needed, the rest freed.
Result<void> write_extents(Ext2Fs& fs, InodeData& inode, ExtentList& list) {
    const Geometry& g = fs.geometry();
    merge(list.extents);
    const std::size_t root_cap = (i_block_bytes - sizeof(ExtentHeader)) / sizeof(Extent);
    const std::size_t cap = (g.block_size - sizeof(ExtentHeader)) / sizeof(Extent);
    const std::size_t tail_at = sizeof(ExtentHeader) + cap * sizeof(Extent);

    // How many blocks each level takes, bottom up, until the top fits the root.
    std::vector<std::size_t> level_nodes;
    std::size_t n = list.extents.size();
    while (n > root_cap) {
        n = (n + cap - 1) / cap;
        level_nodes.push_back(n);
    }
    std::size_t needed = 0;
    for (std::size_t k : level_nodes)
        needed += k;
    if (level_nodes.size() > max_extent_depth)
        return Error::sys(EFBIG, inode.what() + ": the extent tree would be too deep");

    std::vector<std::uint64_t> blocks = list.nodes;
    const std::uint64_t goal =
        list.extents.empty() ? fs.inode_goal(inode.ino) : list.extents.front().pblock;
    while (blocks.size() < needed) {
        auto got = fs.alloc_blocks(goal, needed - blocks.size());
        if (!got) {  // give back what this call took; the tree on disk is unchanged
            for (std::size_t k = list.nodes.size(); k < blocks.size(); ++k)
                (void)fs.free_blocks(blocks[k], 1);
            inode.blocks_512 -=
                std::min(inode.blocks_512, blocks_512(g, blocks.size() - list.nodes.size()));
            return got.error();
        }
        for (std::uint64_t k = 0; k < got->count; ++k)
            blocks.push_back(got->start + k);
        inode.blocks_512 += blocks_512(g, got->count);
    }
    for (std::size_t k = needed; k < blocks.size(); ++k) {
        UKFS_TRY(fs.free_blocks(blocks[k], 1));
        inode.blocks_512 -= std::min(inode.blocks_512, blocks_512(g, 1));
    }
    blocks.resize(needed);

    auto seal = [&](std::span<std::byte> node) {
        if (!g.metadata_csum())
            return;
        le32 c;
        c.set(crc32c_update(inode.csum_seed, node.first(tail_at)));
        std::memcpy(node.data() + tail_at, &c, sizeof c);
    };

    // Leaves, then index levels; `items` is what the next level up points at.
    std::size_t next_block = 0;
    std::vector<IndexRec> items;
    std::span<std::byte> root(inode.i_block);
    std::fill(root.begin(), root.end(), std::byte{0});
    if (level_nodes.empty()) {
        put_header(root, list.extents.size(), root_cap, 0);
        for (std::size_t i = 0; i < list.extents.size(); ++i)
            put_extent(root, i, list.extents[i]);
        list.nodes = std::move(blocks);
        return {};
    }
    // One tree block at `depth` holding `count` entries that `put(node, k)` writes.
    auto write_node = [&](int depth, std::size_t count, auto&& put) -> Result<std::uint64_t> {
        const std::uint64_t b = blocks[next_block++];
        io::BufRef buf = UKFS_TRY(fs.cache().get_zeroed(b));
        std::span<std::byte> node = buf.mark_dirty();
        put_header(node, count, cap, depth);
        for (std::size_t k = 0; k < count; ++k)
            put(node, k);
        seal(node);
        fs.set_checksum_verified(b);
        return b;
    };
    for (std::size_t i = 0; i < list.extents.size(); i += cap) {
        const std::size_t count = std::min(cap, list.extents.size() - i);
        const std::uint64_t b =
            UKFS_TRY(write_node(0, count, [&](std::span<std::byte> node, std::size_t k) {
                put_extent(node, k, list.extents[i + k]);
            }));
        items.push_back({list.extents[i].lblock, b});
    }
    int depth = 1;
    while (items.size() > root_cap) {
        std::vector<IndexRec> up;
        for (std::size_t i = 0; i < items.size(); i += cap) {
            const std::size_t count = std::min(cap, items.size() - i);
            const std::uint64_t b =
                UKFS_TRY(write_node(depth, count, [&](std::span<std::byte> node, std::size_t k) {
                    put_index(node, k, items[i + k]);
                }));
            up.push_back({items[i].lblock, b});
        }
        items = std::move(up);
        ++depth;
    }
    put_header(root, items.size(), root_cap, depth);
    for (std::size_t i = 0; i < items.size(); ++i)
        put_index(root, i, items[i]);
    list.nodes = std::move(blocks);
    return {};
}

Result<AllocRun> map_alloc_extents(Ext2Fs& fs, InodeData& inode, std::uint64_t lblock,
                                   std::uint64_t count) {
    if (lblock >= extent_space)
        return Error::sys(EFBIG);
    ExtentList list = UKFS_TRY(read_extents(fs, inode));
    auto& v = list.extents;
    const auto it =
        std::find_if(v.begin(), v.end(), [&](const ExtentRec& e) { return e.end() > lblock; });
    if (it != v.end() && it->lblock <= lblock) {
        const ExtentRec e = *it;
        const std::uint64_t n = std::min(count, e.end() - lblock);
        const std::uint64_t p = e.pblock + (lblock - e.lblock);
        if (!e.unwritten)
            return AllocRun{p, n, false};
        // Split the unwritten extent around the written part.
        std::vector<ExtentRec> parts;
        if (lblock > e.lblock)
            parts.push_back({e.lblock, lblock - e.lblock, e.pblock, true});
        parts.push_back({lblock, n, p, false});
        if (lblock + n < e.end())
            parts.push_back({lblock + n, e.end() - lblock - n, p + n, true});
        const auto at = v.erase(it);
        v.insert(at, parts.begin(), parts.end());
        UKFS_TRY(write_extents(fs, inode, list));
        return AllocRun{p, n, true};
    }
    const std::uint64_t hole_end = it == v.end() ? extent_space : it->lblock;
    const std::uint64_t want = std::min({count, hole_end - lblock, max_init_len});
    std::uint64_t goal = fs.inode_goal(inode.ino);
    if (it != v.begin()) {
        const ExtentRec& prev = *std::prev(it);
        goal = prev.pblock + prev.len + (lblock - prev.end());
    }
    const Extent64 got = UKFS_TRY(fs.alloc_blocks(goal, want));
    v.insert(it, ExtentRec{lblock, got.count, got.start, false});
    auto written = write_extents(fs, inode, list);
    if (!written) {  // no room for the tree: the data blocks go back
        (void)fs.free_blocks(got.start, got.count);
        return written.error();
    }
    inode.blocks_512 += blocks_512(fs.geometry(), got.count);
    return AllocRun{got.start, got.count, true};
}

Result<void> truncate_extents(Ext2Fs& fs, InodeData& inode, std::uint64_t keep) {
    ExtentList list = UKFS_TRY(read_extents(fs, inode));
    std::vector<ExtentRec> kept;
    for (const ExtentRec& e : list.extents) {
        if (e.end() <= keep) {
            kept.push_back(e);
            continue;
        }
        const std::uint64_t stay = e.lblock >= keep ? 0 : keep - e.lblock;
        UKFS_TRY(fs.free_blocks(e.pblock + stay, e.len - stay));
        inode.blocks_512 -= std::min(inode.blocks_512, blocks_512(fs.geometry(), e.len - stay));
        if (stay != 0)
            kept.push_back({e.lblock, stay, e.pblock, e.unwritten});
    }
    list.extents = std::move(kept);
    return write_extents(fs, inode, list);
}

// The classic scheme. Tier d (1..3) is a tree of depth d under i_block[11 + d];
// each level holds p = block_size / 4 pointers.

struct Path {
    int depth = 0;                // 0: a direct block
    std::uint64_t index[4] = {};  // index[0] into i_block, then one per level below
};

Result<Path> path_of(const Geometry& g, std::uint64_t lblock) {
    const std::uint32_t shift = g.log_block_size - 2;
    Path p;
    if (lblock < n_direct) {
        p.index[0] = lblock;
        return p;
    }
    std::uint64_t rel = lblock - n_direct;
    for (int depth = 1; depth <= 3; ++depth) {
        const std::uint64_t span = std::uint64_t{1} << (shift * static_cast<unsigned>(depth));
        if (rel >= span) {
            rel -= span;
            continue;
        }
        p.depth = depth;
        p.index[0] = n_direct + static_cast<std::uint64_t>(depth) - 1;
        for (int level = depth; level >= 1; --level) {
            const std::uint64_t below = std::uint64_t{1}
                                        << (shift * static_cast<unsigned>(level - 1));
            p.index[depth - level + 1] = rel / below;
            rel %= below;
        }
        return p;
    }
    return Error::sys(EFBIG);
}

std::uint32_t get_word(std::span<const std::byte> words, std::uint64_t i) {
    le32 v;
    std::memcpy(&v, words.data() + 4 * i, 4);
    return v.get();
}

void set_word(std::span<std::byte> words, std::uint64_t i, std::uint64_t value) {
    le32 v;
    v.set(static_cast<std::uint32_t>(value));
    std::memcpy(words.data() + 4 * i, &v, 4);
}

Result<std::uint64_t> alloc_one(Ext2Fs& fs, InodeData& inode, std::uint64_t goal) {
    const Extent64 got = UKFS_TRY(fs.alloc_blocks(goal, 1));
    inode.blocks_512 += blocks_512(fs.geometry(), 1);
    return got.start;
}

Result<AllocRun> map_alloc_indirect(Ext2Fs& fs, InodeData& inode, std::uint64_t lblock) {
    const Geometry& g = fs.geometry();
    const Path path = UKFS_TRY(path_of(g, lblock));
    if (g.blocks_count > 0xFFFFFFFFu)
        return Error::sys(EFBIG, inode.what() + ": block-mapped files cannot reach blocks past "
                                                "2^32");
    std::span<std::byte> top(inode.i_block);
    std::uint64_t goal = fs.inode_goal(inode.ino);
    std::uint64_t ptr = get_word(top, path.index[0]);
    if (path.depth == 0) {
        if (ptr != 0)
            return AllocRun{ptr, 1, false};
        if (path.index[0] > 0 && get_word(top, path.index[0] - 1) != 0)
            goal = get_word(top, path.index[0] - 1) + 1;
        const std::uint64_t b = UKFS_TRY(alloc_one(fs, inode, goal));
        set_word(top, path.index[0], b);
        return AllocRun{b, 1, true};
    }
    if (ptr == 0) {
        ptr = UKFS_TRY(alloc_one(fs, inode, goal));
        UKFS_TRY(fs.cache().get_zeroed(ptr)).mark_dirty();
        set_word(top, path.index[0], ptr);
    }
    for (int level = 1; level <= path.depth; ++level) {
        const std::string what = fmt::format("{}: indirect block {}", inode.what(), ptr);
        io::BufRef buf = UKFS_TRY(fs.block(ptr, what));
        const std::uint64_t i = path.index[level];
        std::uint64_t next = get_word(buf.data(), i);
        if (next != 0) {
            if (level == path.depth)
                return AllocRun{next, 1, false};
            ptr = next;
            continue;
        }
        goal = ptr + 1;
        if (i > 0 && get_word(buf.data(), i - 1) != 0)
            goal = get_word(buf.data(), i - 1) + 1;
        next = UKFS_TRY(alloc_one(fs, inode, goal));
        if (level < path.depth)
            UKFS_TRY(fs.cache().get_zeroed(next)).mark_dirty();
        set_word(buf.mark_dirty(), i, next);
        if (level == path.depth)
            return AllocRun{next, 1, true};
        ptr = next;
    }
    return Error::sys(EIO, inode.what() + ": block map walk ended early");
}

// Free what lies at or past `keep` under the indirect block `ptr` of `level`
// levels (1: its words point at data) whose first file block is `base`; true
// when the block ends up empty.
Result<bool> free_below(Ext2Fs& fs, InodeData& inode, std::uint64_t ptr, int level,
                        std::uint64_t base, std::uint64_t keep) {
    const Geometry& g = fs.geometry();
    const std::uint32_t shift = g.log_block_size - 2;
    const std::uint64_t per = std::uint64_t{1} << shift;
    const std::uint64_t span = std::uint64_t{1} << (shift * static_cast<unsigned>(level - 1));
    io::BufRef buf =
        UKFS_TRY(fs.block(ptr, fmt::format("{}: indirect block {}", inode.what(), ptr)));
    bool empty = true;
    for (std::uint64_t i = 0; i < per; ++i) {
        const std::uint64_t child = get_word(buf.data(), i);
        if (child == 0)
            continue;
        const std::uint64_t child_base = base + i * span;
        if (child_base + span <= keep) {
            empty = false;
            continue;
        }
        bool gone = true;
        if (level > 1)
            gone = UKFS_TRY(free_below(fs, inode, child, level - 1, child_base, keep));
        if (!gone) {
            empty = false;
            continue;
        }
        UKFS_TRY(fs.free_blocks(child, 1));
        inode.blocks_512 -= std::min(inode.blocks_512, blocks_512(g, 1));
        set_word(buf.mark_dirty(), i, 0);
    }
    return empty;
}

Result<void> truncate_indirect(Ext2Fs& fs, InodeData& inode, std::uint64_t keep) {
    const Geometry& g = fs.geometry();
    std::span<std::byte> top(inode.i_block);
    for (std::uint64_t i = std::min<std::uint64_t>(keep, n_direct); i < n_direct; ++i) {
        const std::uint64_t b = get_word(top, i);
        if (b == 0)
            continue;
        UKFS_TRY(fs.free_blocks(b, 1));
        inode.blocks_512 -= std::min(inode.blocks_512, blocks_512(g, 1));
        set_word(top, i, 0);
    }
    const std::uint32_t shift = g.log_block_size - 2;
    std::uint64_t base = n_direct;
    for (int depth = 1; depth <= 3; ++depth) {
        const std::uint64_t span = std::uint64_t{1} << (shift * static_cast<unsigned>(depth));
        const std::uint64_t slot = n_direct + static_cast<std::uint64_t>(depth) - 1;
        const std::uint64_t ptr = get_word(top, slot);
        if (ptr != 0 && base + span > keep) {
            if (UKFS_TRY(free_below(fs, inode, ptr, depth, base, keep))) {
                UKFS_TRY(fs.free_blocks(ptr, 1));
                inode.blocks_512 -= std::min(inode.blocks_512, blocks_512(g, 1));
                set_word(top, slot, 0);
            }
        }
        base += span;
    }
    return {};
}

}  // namespace

Result<AllocRun> map_alloc(Ext2Fs& fs, InodeData& inode, std::uint64_t lblock,
                           std::uint64_t count) {
    if (inode.uses_extents())
        return map_alloc_extents(fs, inode, lblock, std::max<std::uint64_t>(count, 1));
    return map_alloc_indirect(fs, inode, lblock);
}

Result<void> truncate_blocks(Ext2Fs& fs, InodeData& inode, std::uint64_t keep) {
    if (inode.uses_extents())
        return truncate_extents(fs, inode, keep);
    return truncate_indirect(fs, inode, keep);
}

}  // namespace uk::ext2fs
