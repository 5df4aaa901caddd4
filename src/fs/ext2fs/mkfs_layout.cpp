// mkfs's layout (see mkfs_layout.hpp). The choices are e2fsprogs 1.47's: mke2fs.c (size
// types, the journal size table), lib/ext2fs/initialize.c (groups, inodes per group, the
// last-group trim), alloc_tables.c (flex_bg placement), mkjournal.c (the journal's goal).
#include "fs/ext2fs/mkfs_layout.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <iterator>

#include <fmt/format.h>

#include "fs/ext2fs/format.hpp"

namespace uk::ext2fs::mkfs_detail {

void BlockSet::add(std::uint64_t start, std::uint64_t count) {
    if (count == 0)
        return;
    std::uint64_t end = start + count;
    auto it = m_set.upper_bound(start);
    if (it != m_set.begin()) {
        auto prev = std::prev(it);
        if (prev->second >= start) {
            start = prev->first;
            end = std::max(end, prev->second);
            it = m_set.erase(prev);
        }
    }
    while (it != m_set.end() && it->first <= end) {
        end = std::max(end, it->second);
        it = m_set.erase(it);
    }
    m_set.emplace(start, end);
}

bool BlockSet::is_free(std::uint64_t start, std::uint64_t count) const {
    return used_in(start, start + count) == 0;
}

std::optional<std::uint64_t> BlockSet::find_free(std::uint64_t from, std::uint64_t finish,
                                                 std::uint64_t count, std::uint64_t limit) const {
    std::uint64_t b = from;
    auto it = m_set.upper_bound(b);
    if (it != m_set.begin() && std::prev(it)->second > b)
        b = std::prev(it)->second;
    while (true) {
        if (b >= finish || b + count > limit)
            return std::nullopt;
        if (it == m_set.end() || it->first >= b + count)
            return b;
        b = std::max(b, it->second);
        ++it;
    }
}

std::pair<std::uint64_t, std::uint64_t> BlockSet::free_run(std::uint64_t from,
                                                           std::uint64_t limit) const {
    std::uint64_t b = from;
    auto it = m_set.upper_bound(b);
    if (it != m_set.begin() && std::prev(it)->second > b)
        b = std::prev(it)->second;
    if (b >= limit)
        return {b, 0};
    const std::uint64_t end = it == m_set.end() ? limit : std::min(limit, it->first);
    return {b, end - b};
}

std::uint64_t BlockSet::used_in(std::uint64_t start, std::uint64_t end) const {
    std::uint64_t n = 0;
    auto it = m_set.upper_bound(start);
    if (it != m_set.begin())
        --it;
    for (; it != m_set.end() && it->first < end; ++it) {
        const std::uint64_t s = std::max(start, it->first), e = std::min(end, it->second);
        if (e > s)
            n += e - s;
    }
    return n;
}

std::vector<std::pair<std::uint64_t, std::uint32_t>> journal_extents(const std::vector<Run>& runs) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> out;
    for (auto [start, len] : runs)
        for (std::uint64_t done = 0; done < len;) {
            const auto n =
                static_cast<std::uint32_t>(std::min<std::uint64_t>(len - done, max_extent_len));
            out.emplace_back(start + done, n);
            done += n;
        }
    return out;
}

namespace {

Error inval(const std::string& what) {
    return Error::sys(EINVAL, "ext2fs mkfs: " + what);
}

// ext2fs_default_journal_size: the journal in blocks for a file system of `blocks`, or 0 when
// it is too small for one.
std::uint64_t default_journal_blocks(std::uint64_t blocks) {
    if (blocks < 2048)
        return 0;
    if (blocks < 32768)
        return 1024;
    if (blocks < 256 * 1024)
        return 4096;
    if (blocks < 512 * 1024)
        return 8192;
    if (blocks < 4096 * 1024)
        return 16384;
    if (blocks < 8192 * 1024)
        return 32768;
    if (blocks < 16384 * 1024)
        return 65536;
    if (blocks < 32768 * 1024)
        return 131072;
    return 262144;
}

// Indirect blocks needed to map `n` blocks (12 direct, then single, double, triple).
std::uint64_t indirect_blocks(std::uint64_t n, std::uint64_t apb) {
    std::uint64_t total = 0;
    if (n <= n_direct)
        return 0;
    n -= n_direct;
    total += 1;
    if (n <= apb)
        return total;
    n -= apb;
    const std::uint64_t d = std::min(n, apb * apb);
    total += 1 + (d + apb - 1) / apb;
    if (n <= apb * apb)
        return total;
    n -= apb * apb;
    total += 1 + (n + apb * apb - 1) / (apb * apb) + (n + apb - 1) / apb;
    return total;
}

std::uint64_t group_of(const Geometry& g, std::uint64_t block) {
    return (block - g.first_data_block) / g.blocks_per_group;
}

// The superblock and descriptor copies at the start of `group`, in blocks.
std::uint64_t super_blocks(const Geometry& g, std::uint32_t group) {
    return g.group_has_super(group) ? 1 + g.desc_blocks : 0;
}

// Groups, inodes per group and the trim of a too-short last group (ext2fs_initialize).
Result<void> size_groups(Geometry& g, std::uint64_t inodes_wanted) {
    const std::uint32_t max_ipg = 65536 - g.block_size / g.inode_size;
    while (true) {
        if (g.blocks_count <= g.first_data_block)
            return inval("the device is too small");
        const std::uint64_t groups =
            (g.blocks_count - g.first_data_block + g.blocks_per_group - 1) / g.blocks_per_group;
        if (groups > 0xFFFFFFFF)
            return inval("too many block groups");
        g.group_count = static_cast<std::uint32_t>(groups);
        g.desc_blocks =
            static_cast<std::uint32_t>((groups + g.desc_per_block - 1) / g.desc_per_block);
        std::uint64_t ipg = (inodes_wanted + groups - 1) / groups;
        if (ipg > std::uint64_t{g.block_size} * 8) {
            if (g.blocks_per_group >= 256) {
                g.blocks_per_group -= 8;
                continue;
            }
            return inval("too many inodes for the block size");
        }
        ipg = std::min<std::uint64_t>(ipg, max_ipg);
        std::uint64_t itb = (ipg * g.inode_size + g.block_size - 1) / g.block_size;
        ipg = itb * g.block_size / g.inode_size;
        ipg &= ~std::uint64_t{7};
        itb = (ipg * g.inode_size + g.block_size - 1) / g.block_size;
        if (ipg == 0)
            return inval("no room for inodes");
        g.inodes_per_group = static_cast<std::uint32_t>(ipg);
        g.inode_table_blocks = static_cast<std::uint32_t>(itb);
        std::uint64_t overhead = 2 + itb;
        if (g.group_has_super(g.group_count - 1))
            overhead += 1 + g.desc_blocks;
        if (overhead > g.blocks_per_group)
            return inval("too many inodes for the block group size");
        const std::uint64_t rem = (g.blocks_count - g.first_data_block) % g.blocks_per_group;
        if (groups == 1 && rem != 0 && rem < overhead)
            return inval(fmt::format("the device is too small ({} blocks of {} bytes; the "
                                     "metadata alone takes {})",
                                     g.blocks_count, g.block_size, overhead));
        if (rem != 0 && rem < overhead + 50) {
            g.blocks_count -= rem;
            continue;
        }
        const std::uint64_t inodes = std::uint64_t{g.inodes_per_group} * g.group_count;
        if (inodes > 0xFFFFFFFF)
            return inval("too many inodes (more than 2^32 - 1)");
        g.inodes_count = static_cast<std::uint32_t>(inodes);
        return {};
    }
}

// flexbg_offset() of alloc_tables.c: where the tables of a flex group start.
std::uint64_t flexbg_offset(const Layout& l, std::uint32_t group, std::uint64_t prev,
                            std::uint32_t flex, std::uint32_t rem_grps, std::uint64_t elem) {
    const Geometry& g = l.g;
    std::uint64_t size = std::uint64_t{rem_grps} * elem;
    size = std::min<std::uint64_t>(size, g.blocks_per_group / 4);
    if (prev != 0 && prev < g.blocks_count)
        if (auto b = l.used.find_free(prev, prev + size, elem, g.blocks_count))
            return *b;
    const std::uint64_t start = group_first(g, std::uint64_t{group / flex} * flex);
    const std::uint32_t last_grp = std::min(group | (flex - 1), g.group_count - 1);
    const std::uint64_t last = group_end(g, last_grp) - 1;
    if (auto b = l.used.find_free(start, last, size, g.blocks_count))
        return *b;
    if (auto b = l.used.find_free(start, last, elem, g.blocks_count))
        return *b;
    if (auto b = l.used.find_free(g.first_data_block, last, elem, g.blocks_count))
        return *b;
    return start;
}

// ext2fs_allocate_group_table for every group.
Result<void> place_tables(Layout& l) {
    const Geometry& g = l.g;
    const std::uint32_t flex = l.log_groups_per_flex != 0 ? 1u << l.log_groups_per_flex : 0;
    for (std::uint32_t group = 0; group < g.group_count; ++group) {
        GroupPlan& gp = l.groups[group];
        std::uint64_t start = group_first(g, group) + super_blocks(g, group);
        std::uint64_t last = group_end(g, group) - 1;
        std::uint64_t table_offset = flex;
        std::uint32_t rem_grps = 0;
        if (flex != 0) {
            const std::uint32_t last_grp = std::min(group | (flex - 1), g.group_count - 1);
            rem_grps = last_grp - group + 1;
            std::uint64_t prev = 0;
            if (group % flex != 0)
                prev = l.groups[group - 1].block_bitmap + 1;
            else if (last_grp == g.group_count - 1) {
                table_offset = last_grp & (flex - 1);
                table_offset = table_offset == 0 ? flex : table_offset + 1;
            }
            start = flexbg_offset(l, group, prev, flex, rem_grps, 1);
            last = group_end(g, last_grp) - 1;
        }
        auto take = [&](std::uint64_t from, std::uint64_t count,
                        const char* what) -> Result<std::uint64_t> {
            auto b = l.used.find_free(from, last, count, g.blocks_count);
            if (!b)
                b = l.used.find_free(group_first(g, group), last, count, g.blocks_count);
            if (!b)
                return inval(fmt::format("no room for the {} of group {}", what, group));
            l.used.add(*b, count);
            return *b;
        };
        gp.block_bitmap = UKFS_TRY(take(start, 1, "block bitmap"));
        if (flex != 0) {
            const std::uint64_t prev = group % flex != 0 ? l.groups[group - 1].inode_bitmap + 1
                                                         : gp.block_bitmap + table_offset;
            start = flexbg_offset(l, group, prev, flex, rem_grps, 1);
        }
        gp.inode_bitmap = UKFS_TRY(take(start, 1, "inode bitmap"));
        if (flex != 0) {
            const std::uint64_t prev = group % flex != 0
                                           ? l.groups[group - 1].inode_table + g.inode_table_blocks
                                           : gp.inode_bitmap + table_offset;
            start = flexbg_offset(l, group, prev, flex, rem_grps, g.inode_table_blocks);
        }
        gp.inode_table = UKFS_TRY(take(start, g.inode_table_blocks, "inode table"));
    }
    return {};
}

// The next free block at or after `cursor`, marked used.
Result<std::uint64_t> take_next(Layout& l, std::uint64_t& cursor) {
    auto b = l.used.find_free(cursor, l.g.blocks_count, 1, l.g.blocks_count);
    if (!b)
        b = l.used.find_free(l.g.first_data_block, l.g.blocks_count, 1, l.g.blocks_count);
    if (!b)
        return Error::sys(ENOSPC, "ext2fs mkfs: no free blocks left");
    l.used.add(*b, 1);
    cursor = *b + 1;
    return *b;
}

// get_midpoint_journal_block() of mkjournal.c, over the free counts known so far.
std::uint64_t journal_goal(const Layout& l) {
    const Geometry& g = l.g;
    auto free_in = [&](std::uint64_t group) {
        return (group_end(g, group) - group_first(g, group)) -
               l.used.used_in(group_first(g, group), group_end(g, group));
    };
    std::uint64_t group = group_of(g, (g.blocks_count - g.first_data_block) / 2);
    group = std::min<std::uint64_t>(group, g.group_count - 1);
    const std::uint64_t log_flex = std::uint64_t{1} << l.log_groups_per_flex;
    std::uint64_t start = 0;
    if (l.log_groups_per_flex != 0 && group > log_flex) {
        group &= ~(log_flex - 1);
        while (group < g.group_count && free_in(group) == 0)
            ++group;
        if (group == g.group_count)
            group = 0;
        start = group;
    } else {
        start = group > 0 ? group - 1 : group;
    }
    const std::uint64_t end = group + 1 < g.group_count ? group + 1 : group;
    group = start;
    for (std::uint64_t i = start + 1; i <= end; ++i)
        if (free_in(i) > free_in(group))
            group = i;
    return group_first(g, group);
}

// Take `count` blocks as runs in allocation order, first fit from `goal`, wrapping once.
Result<std::vector<Run>> take_runs(Layout& l, std::uint64_t goal, std::uint64_t count) {
    std::vector<Run> runs;
    std::uint64_t cursor = goal;
    bool wrapped = false;
    while (count > 0) {
        auto [s, n] = l.used.free_run(cursor, l.g.blocks_count);
        if (n == 0) {
            if (wrapped)
                return Error::sys(ENOSPC, "ext2fs mkfs: no room for the journal");
            wrapped = true;
            cursor = l.g.first_data_block;
            continue;
        }
        n = std::min(n, count);
        l.used.add(s, n);
        if (!runs.empty() && runs.back().first + runs.back().second == s)
            runs.back().second += n;
        else
            runs.emplace_back(s, n);
        count -= n;
        cursor = s + n;
    }
    return runs;
}

// A journal of the size asked for may take half the free blocks (mke2fs's rule); one from the
// table may take them all but one.
Result<void> place_journal(Layout& l, std::uint64_t free_blocks, bool asked) {
    const Geometry& g = l.g;
    if (l.journal_blocks > (asked ? free_blocks / 2 : free_blocks - 1))
        return inval(fmt::format("a journal of {} blocks is too big for a file system with {} "
                                 "free blocks",
                                 l.journal_blocks, free_blocks));
    if (g.has_incompat(incompat_extents)) {
        const std::uint64_t goal = journal_goal(l);
        // Leaf blocks first when the extents cannot all sit in the inode: a worst case count
        // from the runs the free space offers is not known before taking them, so take the
        // data and then, if needed, the leaves after it.
        l.journal_runs = UKFS_TRY(take_runs(l, goal, l.journal_blocks));
        const auto extents = journal_extents(l.journal_runs);
        if (extents.size() > 4) {
            const std::uint64_t leaves =
                (extents.size() + leaf_capacity(g.block_size) - 1) / leaf_capacity(g.block_size);
            if (leaves > 4)
                return inval("the free space is too fragmented for the journal");
            std::uint64_t cursor = goal;
            for (std::uint64_t i = 0; i < leaves; ++i)
                l.journal_leaves.push_back(UKFS_TRY(take_next(l, cursor)));
        }
        return {};
    }
    const std::uint64_t total =
        l.journal_blocks + indirect_blocks(l.journal_blocks, g.block_size / 4);
    auto [s, n] = l.used.free_run(g.first_data_block, g.blocks_count);
    (void)n;
    l.journal_runs = UKFS_TRY(take_runs(l, s, total));
    return {};
}

}  // namespace

Result<Layout> plan_layout(const MkfsOptions& o, std::uint64_t device_bytes) {
    Layout l;
    Geometry& g = l.g;
    g.feature_compat = o.compat;
    g.feature_incompat = o.incompat;
    g.feature_ro_compat = o.ro_compat;
    if (g.metadata_csum())
        g.feature_ro_compat &= ~ro_compat_gdt_csum;
    if (g.has_incompat(incompat_64bit) && !g.has_incompat(incompat_extents))
        return inval("64bit needs the extent feature");

    // Size types (mke2fs.conf): floppy below 3 MiB, small below 512 MiB, default, big from
    // 4 TiB, huge from 16 TiB.
    std::uint32_t block_size = 4096;
    std::uint64_t ratio = 16384;
    constexpr std::uint64_t mib = std::uint64_t{1} << 20;
    if (device_bytes < 3 * mib) {
        block_size = 1024;
        ratio = 8192;
    } else if (device_bytes < 512 * mib) {
        block_size = 1024;
        ratio = 4096;
    } else if (device_bytes >= (std::uint64_t{16} << 40)) {
        ratio = 65536;
    } else if (device_bytes >= (std::uint64_t{4} << 40)) {
        ratio = 32768;
    }
    if (o.block_size != 0)
        block_size = o.block_size;
    if (o.inode_ratio != 0)
        ratio = o.inode_ratio;
    ratio = std::max<std::uint64_t>(ratio, block_size);
    if (o.inode_size < good_old_inode_size || o.inode_size > block_size ||
        !std::has_single_bit(o.inode_size))
        return inval(fmt::format("inode_size {} must be a power of two from 128 to the block "
                                 "size ({})",
                                 o.inode_size, block_size));

    g.block_size = block_size;
    g.log_block_size = static_cast<std::uint32_t>(std::countr_zero(block_size));
    g.first_data_block = block_size == 1024 ? 1 : 0;
    g.blocks_count = device_bytes / block_size;
    if (g.blocks_count < 64)
        return inval(fmt::format("the device ({} bytes) is too small: at least 64 blocks of {} "
                                 "bytes are needed",
                                 device_bytes, block_size));
    if (g.blocks_count > 0xFFFFFFFF) {
        if (!g.has_incompat(incompat_64bit))
            return inval("the device has more than 2^32 blocks: the 64bit feature is needed");
        if (g.blocks_count > (std::uint64_t{1} << 48))
            return inval("the device is too large");
    }
    g.blocks_per_group = std::min<std::uint32_t>(block_size * 8, 65528);
    g.inode_size = o.inode_size;
    g.first_ino = good_old_first_ino;
    g.desc_size = g.has_incompat(incompat_64bit) ? desc_size_64 : desc_size_32;
    g.desc_per_block = block_size / g.desc_size;
    const std::uint64_t inodes_wanted =
        std::clamp<std::uint64_t>(g.blocks_count * block_size / ratio, g.first_ino + 1, 0xFFFFFFFF);
    UKFS_TRY(size_groups(g, inodes_wanted));
    if (1 + g.desc_blocks + 2 + std::uint64_t{g.inode_table_blocks} >= g.blocks_per_group)
        return inval("the group descriptors do not fit in a block group (meta_bg is not made)");
    if (g.has_incompat(incompat_flex_bg))
        l.log_groups_per_flex = 4;
    l.reserved_blocks =
        static_cast<std::uint64_t>(o.reserved_ratio * static_cast<double>(g.blocks_count) / 100.0);

    // The journal's size: asked for, or from the table (none on a file system too small).
    if (g.has_compat(compat_has_journal)) {
        std::uint64_t jb = o.journal_blocks;
        if (jb == 0 && o.journal_mib != 0)
            jb = o.journal_mib * (mib / block_size);
        if (jb == 0)
            jb = default_journal_blocks(g.blocks_count);
        if (jb == 0)
            g.feature_compat &= ~compat_has_journal;
        else if (jb < 1024 || jb > 10240000)
            return inval(fmt::format("a journal of {} blocks: it must have 1024 to 10240000", jb));
        l.journal_blocks = jb;
    }
    if (!g.has_compat(compat_has_journal))
        l.journal_blocks = 0;

    l.groups.resize(g.group_count);
    for (std::uint32_t i = 0; i < g.group_count; ++i)
        l.used.add(group_first(g, i), super_blocks(g, i));
    UKFS_TRY(place_tables(l));
    // s_overhead_clusters as mke2fs counts it: the blocks before the first group, the group
    // metadata and the journal's size (its indirect blocks not included).
    l.overhead = g.first_data_block + l.used.used_in(0, g.blocks_count) + l.journal_blocks;

    // The root's block, then lost+found's: at least 16 KiB and two blocks, at most 12.
    std::uint64_t cursor = g.first_data_block;
    l.root_block = UKFS_TRY(take_next(l, cursor));
    std::uint64_t lpf_size = 0;
    l.lpf_blocks.push_back(UKFS_TRY(take_next(l, cursor)));
    for (std::uint32_t i = 1; i < n_direct; ++i) {
        lpf_size += block_size;
        if (lpf_size >= 16 * 1024 && lpf_size >= 2 * std::uint64_t{block_size})
            break;
        l.lpf_blocks.push_back(UKFS_TRY(take_next(l, cursor)));
    }
    const std::uint64_t data_blocks = g.blocks_count - g.first_data_block;
    if (l.journal_blocks != 0)
        UKFS_TRY(place_journal(l, data_blocks - l.used.used_in(0, g.blocks_count),
                               o.journal_blocks != 0 || o.journal_mib != 0));

    const std::uint64_t used = l.used.used_in(0, g.blocks_count);
    if (used >= data_blocks)
        return inval("the device is too small: no free blocks would be left");
    g.free_blocks = data_blocks - used;
    g.reserved_blocks = l.reserved_blocks;
    if (l.reserved_blocks > data_blocks / 2)
        return inval("reserved_ratio reserves more than half the blocks");
    return l;
}

}  // namespace uk::ext2fs::mkfs_detail
