// The layout mkfs writes: geometry, where each group's bitmaps and inode table go, and the
// blocks of the root, lost+found and the journal, chosen as mke2fs chooses them (see
// mkfs.hpp). Computed in memory before a byte is written; private to mkfs*.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "fs/ext2fs/mkfs.hpp"
#include "fs/ext2fs/superblock.hpp"

namespace uk::ext2fs::mkfs_detail {

// Used blocks as disjoint, non-adjacent intervals [start, end): a few per group.
class BlockSet {
public:
    void add(std::uint64_t start, std::uint64_t count);
    bool is_free(std::uint64_t start, std::uint64_t count) const;
    // The first b in [from, finish) with [b, b + count) free and b + count <= limit.
    std::optional<std::uint64_t> find_free(std::uint64_t from, std::uint64_t finish,
                                           std::uint64_t count, std::uint64_t limit) const;
    // The free run that starts at the first free block at or after `from`, up to `limit`
    // (start, length); length 0 when nothing is free there.
    std::pair<std::uint64_t, std::uint64_t> free_run(std::uint64_t from, std::uint64_t limit) const;
    // Used blocks in [start, end).
    std::uint64_t used_in(std::uint64_t start, std::uint64_t end) const;
    const std::map<std::uint64_t, std::uint64_t>& intervals() const { return m_set; }

private:
    std::map<std::uint64_t, std::uint64_t> m_set;  // start -> end
};

struct GroupPlan {
    std::uint64_t block_bitmap = 0;
    std::uint64_t inode_bitmap = 0;
    std::uint64_t inode_table = 0;
    std::uint32_t free_blocks = 0;
    std::uint32_t free_inodes = 0;
    std::uint32_t used_dirs = 0;
    std::uint32_t itable_unused = 0;
    std::uint16_t flags = 0;
};

// A run of blocks: physical start and length.
using Run = std::pair<std::uint64_t, std::uint64_t>;

struct Layout {
    Geometry g;  // every field mkfs sets; uuid and csum_seed too
    std::uint32_t log_groups_per_flex = 0;
    std::uint64_t reserved_blocks = 0;
    std::vector<GroupPlan> groups;
    BlockSet used;
    std::uint64_t root_block = 0;
    std::vector<std::uint64_t> lpf_blocks;  // lost+found's preallocated blocks
    // The journal (has_journal): its size in blocks, and the blocks it takes in the order they
    // were allocated. With extents, `journal_runs` hold the data and `journal_leaves` the
    // extent tree's leaf blocks (when the extents do not fit in the inode); without, the runs
    // hold data and indirect blocks interleaved in logical order, as the writer walks them.
    std::uint64_t journal_blocks = 0;
    std::vector<Run> journal_runs;
    std::vector<std::uint64_t> journal_leaves;
    std::uint64_t overhead = 0;  // s_overhead_clusters
};

inline constexpr std::uint32_t lpf_ino = 11;
inline constexpr std::uint32_t journal_ino = 8;
inline constexpr std::uint32_t max_extent_len = 32768;

// The first block of `group`, and one past its last (the last group may be short).
inline std::uint64_t group_first(const Geometry& g, std::uint64_t group) {
    return g.first_data_block + group * g.blocks_per_group;
}
inline std::uint64_t group_end(const Geometry& g, std::uint64_t group) {
    return std::min(g.blocks_count, group_first(g, group) + g.blocks_per_group);
}

// Extents per extent-tree leaf block of `block_size`.
inline std::uint32_t leaf_capacity(std::uint32_t block_size) {
    return (block_size - 12) / 12;
}

// The extents of a journal laid out in `runs` (each at most max_extent_len long).
std::vector<std::pair<std::uint64_t, std::uint32_t>> journal_extents(const std::vector<Run>& runs);

// Plan the file system for `device_bytes` with options `o` (features already final, uuid and
// time resolved by the caller into g.uuid and g.csum_seed). EINVAL with a clear message when
// it cannot be made.
Result<Layout> plan_layout(const MkfsOptions& o, std::uint64_t device_bytes);

}  // namespace uk::ext2fs::mkfs_detail
