// Block mapping (see bmap.hpp). Two walkers: the extent tree, with a depth limit and bounds
// checked at every level, and one table-driven walker for the direct/indirect scheme.
// Facts: kernel ext4 ifork.rst, blockmap.rst, checksums.rst (extent tail).
#include "fs/ext2fs/bmap.hpp"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "base/crc32c.hpp"
#include "fs/ext2fs/csum.hpp"

namespace uk::ext2fs {

Result<ExtentHeader> read_extent_header(ByteView node, int expected_depth, const std::string& what) {
    const ExtentHeader h = UKFS_TRY(node.read<ExtentHeader>(0));
    if (h.eh_magic.get() != extent_magic)
        return Error::corrupt(what, fmt::format("bad extent magic {:#06x}", h.eh_magic.get()));
    const std::uint64_t room = (node.size() - sizeof h) / sizeof(Extent);
    if (h.eh_max.get() > room || h.eh_entries.get() > h.eh_max.get())
        return Error::corrupt(what, fmt::format("eh_entries {} / eh_max {} do not fit {} bytes",
                                                h.eh_entries.get(), h.eh_max.get(), node.size()));
    const int depth = h.eh_depth.get();
    if (depth > max_extent_depth || (expected_depth >= 0 && depth != expected_depth))
        return Error::corrupt(what, fmt::format("eh_depth {} is wrong (expected {})", depth,
                                                expected_depth < 0 ? max_extent_depth
                                                                   : expected_depth));
    return h;
}

Result<void> verify_extent_block(const Geometry& g, const InodeData& inode, ByteView node,
                                 const ExtentHeader& h, const std::string& what) {
    if (!g.metadata_csum())
        return {};
    const std::uint64_t tail_at = sizeof h + std::uint64_t{h.eh_max.get()} * sizeof(Extent);
    const ExtentTail tail = UKFS_TRY(node.read<ExtentTail>(tail_at));
    const std::uint32_t c = crc32c_update(inode.csum_seed, node.span().first(tail_at));
    return check_csum(tail.et_checksum.get(), c, what);
}

namespace {

// The leaf entries: the extent holding `lblock`, or the hole up to the next one (or `limit`).
Result<Run> map_in_leaf(const Geometry& g, ByteView node, const ExtentHeader& h,
                        std::uint64_t lblock, std::uint64_t limit, const std::string& what) {
    std::uint64_t prev_end = 0;
    for (std::uint32_t i = 0; i < h.eh_entries.get(); ++i) {
        const Extent e = UKFS_TRY(node.read<Extent>(sizeof h + std::uint64_t{i} * sizeof(Extent)));
        const std::uint64_t start = e.ee_block.get();
        std::uint64_t len = e.ee_len.get();
        const bool unwritten = len > init_max_len;
        if (unwritten)
            len -= init_max_len;
        if (len == 0 || start < prev_end || start + len > extent_space)
            return Error::corrupt(what, fmt::format("extent {} (block {}, length {}) is invalid",
                                                    i, start, len));
        prev_end = start + len;
        if (lblock < start)
            return Run{0, std::min(start, limit) - lblock};
        if (lblock >= start + len)
            continue;
        const std::uint64_t pstart = e.ee_start_lo.get() | std::uint64_t{e.ee_start_hi.get()} << 32;
        UKFS_TRY(g.check_blocks(pstart, len, fmt::format("{}: extent {}", what, i)));
        if (unwritten)
            return Run{0, start + len - lblock};
        return Run{pstart + (lblock - start), start + len - lblock};
    }
    return Run{0, limit - lblock};
}

// The index entry covering `lblock`: its child block, narrowing `limit` to the next entry.
// Nullopt-like: child 0 and a hole run when lblock is before the first entry.
struct Step {
    std::uint64_t child = 0;
    Run hole;
};
Result<Step> step_index(ByteView node, const ExtentHeader& h, std::uint64_t lblock,
                        std::uint64_t& limit, const std::string& what) {
    Step s;
    std::uint64_t prev = 0;
    for (std::uint32_t i = 0; i < h.eh_entries.get(); ++i) {
        const ExtentIndex x =
            UKFS_TRY(node.read<ExtentIndex>(sizeof h + std::uint64_t{i} * sizeof(ExtentIndex)));
        const std::uint64_t first = x.ei_block.get();
        if (i > 0 && first <= prev)
            return Error::corrupt(what, fmt::format("index {} is out of order", i));
        prev = first;
        if (first > lblock) {
            limit = std::min(limit, first);
            break;
        }
        s.child = x.ei_leaf_lo.get() | std::uint64_t{x.ei_leaf_hi.get()} << 32;
    }
    if (s.child == 0)
        s.hole = Run{0, limit - lblock};
    return s;
}

Result<Run> map_extents(Ext2Fs& fs, const InodeData& inode, std::uint64_t lblock) {
    if (lblock >= extent_space)
        return Run{0, UINT64_MAX - lblock};
    const Geometry& g = fs.geometry();
    std::string what = inode.what() + ": extent root";
    ByteView node(std::span<const std::byte>(inode.i_block), "ext2fs: extent root");
    io::BufRef held;
    std::uint64_t limit = extent_space;
    int expected = -1;
    for (;;) {
        const ExtentHeader h = UKFS_TRY(read_extent_header(node, expected, what));
        if (held && !fs.checksum_verified(held.block())) {
            UKFS_TRY(verify_extent_block(g, inode, node, h, what));
            fs.set_checksum_verified(held.block());
        }
        if (h.eh_depth.get() == 0)
            return map_in_leaf(g, node, h, lblock, limit, what);
        const Step s = UKFS_TRY(step_index(node, h, lblock, limit, what));
        if (s.child == 0)
            return s.hole;
        what = fmt::format("{}: extent block {}", inode.what(), s.child);
        held = UKFS_TRY(fs.block(s.child, what));
        node = ByteView(held.data(), "ext2fs: extent block");
        expected = h.eh_depth.get() - 1;
    }
}

// Classic mapping: 12 direct pointers in i_block, then tiers d = 1..3, each a tree of depth
// d rooted at i_block[11 + d] covering p^d blocks (p = block_size / 4).

// The run in `words` (a direct array or a last-level indirect block) from index `i`:
// consecutive block numbers, or consecutive zeros.
Result<Run> run_in(const Geometry& g, ByteView words, std::uint64_t i, std::uint64_t n,
                   const std::string& what) {
    const std::uint64_t first = UKFS_TRY(words.read<le32>(4 * i)).get();
    std::uint64_t k = 1;
    while (i + k < n && UKFS_TRY(words.read<le32>(4 * (i + k))).get() ==
                            (first == 0 ? 0 : first + k))
        ++k;
    if (first != 0)
        UKFS_TRY(g.check_blocks(first, k, what));
    return Run{first, k};
}

Result<Run> map_indirect(Ext2Fs& fs, const InodeData& inode, std::uint64_t lblock) {
    const Geometry& g = fs.geometry();
    const std::uint32_t shift = g.log_block_size - 2;  // log2(pointers per block)
    const ByteView direct(std::span<const std::byte>(inode.i_block), "ext2fs: i_block");
    const std::string what = inode.what() + ": block map";
    if (lblock < n_direct)
        return run_in(g, direct, lblock, n_direct, what);
    std::uint64_t rel = lblock - n_direct;
    for (std::uint32_t depth = 1; depth <= 3; ++depth) {
        const std::uint64_t span = std::uint64_t{1} << (shift * depth);
        if (rel >= span) {
            rel -= span;
            continue;
        }
        std::uint64_t ptr = inode.i_block_word(n_direct + depth - 1);
        io::BufRef held;
        for (std::uint32_t level = depth; level >= 1; --level) {
            const std::uint64_t below = std::uint64_t{1} << (shift * (level - 1));
            if (ptr == 0)
                return Run{0, below * (std::uint64_t{1} << shift) - rel};
            held = UKFS_TRY(fs.block(ptr, fmt::format("{}: indirect block {}", what, ptr)));
            const ByteView words(held.data(), "ext2fs: indirect block");
            if (level == 1)
                return run_in(g, words, rel, std::uint64_t{1} << shift, what);
            ptr = UKFS_TRY(words.read<le32>(4 * (rel / below))).get();
            rel %= below;
        }
    }
    return Run{0, UINT64_MAX - lblock};  // past the triple indirect tier: a hole
}

}  // namespace

Result<Run> map_block(Ext2Fs& fs, const InodeData& inode, std::uint64_t lblock) {
    if (inode.uses_extents())
        return map_extents(fs, inode, lblock);
    return map_indirect(fs, inode, lblock);
}

}  // namespace uk::ext2fs
