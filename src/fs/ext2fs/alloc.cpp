// Allocation: block and inode bitmaps, group descriptor counts, the
// superblock's state and totals. Facts: kernel ext4 blockgroup.rst ("Lazy Block
// Group Initialization", flex_bg), group_descr.rst, checksums.rst (bitmap
// checksums); which blocks an uninitialised group's bitmap marks in use follows
// e2fsprogs ext2fs_super_and_bgd_loc2() and the kernel's
// ext4_init_block_bitmap().
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>

#include <fmt/format.h>

#include "base/crc32c.hpp"
#include "fs/ext2fs/csum.hpp"
#include "fs/ext2fs/fs.hpp"

namespace uk::ext2fs {

namespace {

bool test_bit(std::span<const std::byte> bits, std::uint64_t i) {
    return (std::to_integer<unsigned>(bits[i / 8]) >> (i % 8) & 1u) != 0;
}

void set_bit(std::span<std::byte> bits, std::uint64_t i) {
    bits[i / 8] |= std::byte{static_cast<unsigned char>(1u << (i % 8))};
}

void clear_bit(std::span<std::byte> bits, std::uint64_t i) {
    bits[i / 8] &= std::byte{static_cast<unsigned char>(~(1u << (i % 8)))};
}

// The first clear bit in [from, to), or `to`.
std::uint64_t find_clear(std::span<const std::byte> bits, std::uint64_t from, std::uint64_t to) {
    std::uint64_t i = from;
    while (i < to) {
        if (i % 8 == 0 && i + 8 <= to && bits[i / 8] == std::byte{0xFF}) {
            i += 8;
            continue;
        }
        if (!test_bit(bits, i))
            return i;
        ++i;
    }
    return to;
}

std::uint64_t group_first_block(const Geometry& g, std::uint32_t group) {
    return g.first_data_block + std::uint64_t{group} * g.blocks_per_group;
}

// Blocks in group `group` (the last group may be short).
std::uint64_t group_blocks(const Geometry& g, std::uint32_t group) {
    const std::uint64_t first = group_first_block(g, group);
    return std::min<std::uint64_t>(g.blocks_per_group, g.blocks_count - first);
}

std::uint32_t bitmap_checksum(const Geometry& g, std::span<const std::byte> bits,
                              std::uint32_t count) {
    return crc32c_update(g.csum_seed, bits.first(count / 8));
}

bool has_uninit_flags(const Geometry& g) {
    return g.metadata_csum() || g.gdt_csum();
}

}  // namespace

Ext2Fs::Ext2Fs(const Geometry& geometry, const Superblock& sb,
               std::unique_ptr<io::BufferCache> cache, std::vector<GroupInfo> groups,
               bool read_only)
    : m_geometry(geometry), m_sb(sb), m_cache(std::move(cache)), m_groups(std::move(groups)),
      m_read_only(read_only), m_generation(std::random_device{}()) {}

std::pair<std::uint64_t, std::uint64_t> Ext2Fs::free_totals() const {
    std::uint64_t blocks = 0, inodes = 0;
    for (const GroupInfo& gi : m_groups) {
        blocks += gi.free_blocks;
        inodes += gi.free_inodes;
    }
    return {blocks, inodes};
}

std::uint64_t Ext2Fs::inode_goal(std::uint32_t ino) const {
    return group_first_block(m_geometry, (ino - 1) / m_geometry.inodes_per_group);
}

void Ext2Fs::update_bitmap_csum(std::uint32_t group, bool inodes, std::span<const std::byte> bits) {
    if (!m_geometry.metadata_csum())
        return;
    GroupInfo& gi = m_groups[group];
    if (inodes)
        gi.inode_bitmap_csum = bitmap_checksum(m_geometry, bits, m_geometry.inodes_per_group);
    else
        gi.block_bitmap_csum = bitmap_checksum(m_geometry, bits, m_geometry.blocks_per_group);
}

Result<void> Ext2Fs::store_group(std::uint32_t group) {
    const auto [block, offset] = descriptor_location(m_geometry, group);
    io::BufRef buf = UKFS_TRY(this->block(block, "ext2fs: group descriptor block"));
    std::span<std::byte> bytes = buf.mark_dirty();
    encode_group(m_geometry, group, m_groups[group], bytes.subspan(offset, m_geometry.desc_size));
    return {};
}

// An uninitialised group's block bitmap: its superblock copy and descriptor
// blocks, every group's bitmaps and inode table that lie in it, and the padding
// past its last block.
Result<void> Ext2Fs::init_block_bitmap(std::uint32_t group, std::span<std::byte> bits) {
    const Geometry& g = m_geometry;
    const std::uint64_t first = group_first_block(g, group);
    const std::uint64_t n = group_blocks(g, group);
    std::fill(bits.begin(), bits.end(), std::byte{0});
    auto mark = [&](std::uint64_t b, std::uint64_t count) {  // the part inside this group
        const std::uint64_t from = std::max(b, first);
        const std::uint64_t to = std::min(b + count, first + n);
        for (std::uint64_t k = from; k < to; ++k)
            set_bit(bits, k - first);
    };
    const bool super = g.group_has_super(group);
    const bool meta_bg = g.has_incompat(incompat_meta_bg);
    if (super)
        mark(first, 1);
    if (!meta_bg || group / g.desc_per_block < g.first_meta_bg) {
        const std::uint64_t old_desc =
            meta_bg ? g.first_meta_bg : std::uint64_t{g.desc_blocks} + g.reserved_gdt_blocks;
        if (super)
            mark(first + 1, old_desc);
    } else {
        const std::uint32_t r = group % g.desc_per_block;
        if (r == 0 || r == 1 || r == g.desc_per_block - 1)
            mark(first + (super ? 1 : 0), 1);
    }
    for (const GroupInfo& other : m_groups) {
        mark(other.block_bitmap, 1);
        mark(other.inode_bitmap, 1);
        mark(other.inode_table, g.inode_table_blocks);
    }
    std::uint64_t used = 0;
    for (std::uint64_t i = 0; i < n; ++i)
        used += test_bit(bits, i) ? 1 : 0;
    for (std::uint64_t i = n; i < std::uint64_t{8} * g.block_size; ++i)
        set_bit(bits, i);
    if (n - used != m_groups[group].free_blocks)
        return Error::corrupt(fmt::format("ext2fs: group descriptor {}", group),
                              fmt::format("bg_free_blocks_count {} does not match the {} free "
                                          "blocks of its uninitialised bitmap",
                                          m_groups[group].free_blocks, n - used));
    return {};
}

// A group's bitmap for changing: initialised first when the group is marked
// uninitialised, checksum-verified once otherwise.
Result<io::BufRef> Ext2Fs::bitmap(std::uint32_t group, bool inodes) {
    const Geometry& g = m_geometry;
    GroupInfo& gi = m_groups[group];
    const std::uint64_t at = inodes ? gi.inode_bitmap : gi.block_bitmap;
    const std::uint16_t uninit = inodes ? bg_inode_uninit : bg_block_uninit;
    const std::string what =
        fmt::format("ext2fs: group {} {} bitmap", group, inodes ? "inode" : "block");
    if (has_uninit_flags(g) && (gi.flags & uninit) != 0) {
        UKFS_TRY(g.check_blocks(at, 1, what));
        io::BufRef buf = UKFS_TRY(m_cache->get_zeroed(at));
        std::span<std::byte> bits = buf.mark_dirty();
        if (inodes) {
            for (std::uint64_t i = g.inodes_per_group; i < std::uint64_t{8} * g.block_size; ++i)
                set_bit(bits, i);
        } else {
            UKFS_TRY(init_block_bitmap(group, bits));
        }
        gi.flags = static_cast<std::uint16_t>(gi.flags & ~uninit);
        update_bitmap_csum(group, inodes, bits);
        set_checksum_verified(at);
        return buf;
    }
    io::BufRef buf = UKFS_TRY(block(at, what));
    if (g.metadata_csum() && !checksum_verified(at)) {
        const std::uint32_t count = inodes ? g.inodes_per_group : g.blocks_per_group;
        std::uint32_t computed = bitmap_checksum(g, buf.data(), count);
        const std::uint32_t stored = inodes ? gi.inode_bitmap_csum : gi.block_bitmap_csum;
        if (g.desc_size < desc_size_64)
            computed &= 0xFFFF;
        UKFS_TRY(check_csum(stored, computed, what));
        set_checksum_verified(at);
    }
    return buf;
}

Result<Extent64> Ext2Fs::alloc_in_group(std::uint32_t group, std::uint64_t from,
                                        std::uint64_t max) {
    GroupInfo& gi = m_groups[group];
    if (gi.free_blocks == 0)
        return Extent64{};
    io::BufRef buf = UKFS_TRY(bitmap(group, false));
    const std::uint64_t n = group_blocks(m_geometry, group);
    std::uint64_t start = find_clear(buf.data(), std::min(from, n), n);
    if (start == n)
        start = find_clear(buf.data(), 0, n);
    if (start == n)
        return Error::corrupt(fmt::format("ext2fs: group descriptor {}", group),
                              fmt::format("bg_free_blocks_count is {} but the bitmap has no free "
                                          "block",
                                          gi.free_blocks));
    std::span<std::byte> bits = buf.mark_dirty();
    std::uint64_t count = 0;
    while (count < max && start + count < n && !test_bit(bits, start + count)) {
        set_bit(bits, start + count);
        ++count;
    }
    if (count > gi.free_blocks)
        return Error::corrupt(fmt::format("ext2fs: group descriptor {}", group),
                              "bg_free_blocks_count is below the bitmap's free blocks");
    gi.free_blocks -= count;
    update_bitmap_csum(group, false, bits);
    UKFS_TRY(store_group(group));
    return Extent64{group_first_block(m_geometry, group) + start, count};
}

Result<Extent64> Ext2Fs::alloc_blocks(std::uint64_t goal, std::uint64_t max) {
    const Geometry& g = m_geometry;
    if (m_read_only)
        return Error::sys(EROFS);
    if (goal < g.first_data_block || goal >= g.blocks_count)
        goal = g.first_data_block;
    const auto g0 = static_cast<std::uint32_t>((goal - g.first_data_block) / g.blocks_per_group);
    for (std::uint32_t i = 0; i < g.group_count; ++i) {
        const std::uint32_t group = (g0 + i) % g.group_count;
        const std::uint64_t from = i == 0 ? (goal - g.first_data_block) % g.blocks_per_group : 0;
        const Extent64 got = UKFS_TRY(alloc_in_group(group, from, max));
        if (got.count != 0)
            return got;
    }
    return Error::sys(ENOSPC, "ext2fs: no free block left");
}

Result<void> Ext2Fs::free_blocks(std::uint64_t start, std::uint64_t count) {
    const Geometry& g = m_geometry;
    UKFS_TRY(g.check_blocks(start, count, "ext2fs: freed blocks"));
    while (count > 0) {
        const auto group =
            static_cast<std::uint32_t>((start - g.first_data_block) / g.blocks_per_group);
        const std::uint64_t bit = (start - g.first_data_block) % g.blocks_per_group;
        const std::uint64_t here = std::min(count, group_blocks(g, group) - bit);
        GroupInfo& gi = m_groups[group];
        if (has_uninit_flags(g) && (gi.flags & bg_block_uninit) != 0)
            return Error::corrupt(fmt::format("ext2fs: block {}", start),
                                  "is in use but its group is marked uninitialised");
        io::BufRef buf = UKFS_TRY(bitmap(group, false));
        std::span<std::byte> bits = buf.mark_dirty();
        for (std::uint64_t k = 0; k < here; ++k) {
            if (!test_bit(bits, bit + k))
                return Error::corrupt(fmt::format("ext2fs: block {}", start + k),
                                      "is freed but its bitmap says it is free already");
            clear_bit(bits, bit + k);
        }
        gi.free_blocks += here;
        update_bitmap_csum(group, false, bits);
        UKFS_TRY(store_group(group));
        start += here;
        count -= here;
    }
    return {};
}

Result<std::uint32_t> Ext2Fs::alloc_inode(std::uint32_t parent, bool is_dir) {
    const Geometry& g = m_geometry;
    if (m_read_only)
        return Error::sys(EROFS);
    const std::uint32_t pg = (parent - 1) / g.inodes_per_group;
    const auto [free_blocks, free_inodes] = free_totals();
    const std::uint64_t avg_inodes = free_inodes / g.group_count;
    const std::uint64_t avg_blocks = free_blocks / g.group_count;
    // Directories spread out: the first group after the parent's with at least
    // the average of free inodes and blocks. Other nodes stay in the parent's
    // group when it has room.
    std::uint32_t chosen = g.group_count;
    for (std::uint32_t i = 0; i < g.group_count && chosen == g.group_count; ++i) {
        const std::uint32_t group = (pg + i + (is_dir ? 1 : 0)) % g.group_count;
        const GroupInfo& gi = m_groups[group];
        if (gi.free_inodes == 0)
            continue;
        if (!is_dir || (gi.free_inodes >= avg_inodes && gi.free_blocks >= avg_blocks))
            chosen = group;
    }
    for (std::uint32_t i = 0; i < g.group_count && chosen == g.group_count; ++i)
        if (m_groups[(pg + i) % g.group_count].free_inodes != 0)
            chosen = (pg + i) % g.group_count;
    if (chosen == g.group_count)
        return Error::sys(ENOSPC, "ext2fs: no free inode left");

    GroupInfo& gi = m_groups[chosen];
    io::BufRef buf = UKFS_TRY(bitmap(chosen, true));
    const std::uint64_t first = chosen == 0 ? g.first_ino - 1 : 0;
    const std::uint64_t index = find_clear(buf.data(), first, g.inodes_per_group);
    if (index == g.inodes_per_group)
        return Error::corrupt(fmt::format("ext2fs: group descriptor {}", chosen),
                              fmt::format("bg_free_inodes_count is {} but the bitmap has no free "
                                          "inode",
                                          gi.free_inodes));
    std::span<std::byte> bits = buf.mark_dirty();
    set_bit(bits, index);
    gi.free_inodes -= 1;
    if (is_dir)
        gi.used_dirs += 1;
    if (has_uninit_flags(g) && index >= g.inodes_per_group - gi.itable_unused)
        gi.itable_unused = static_cast<std::uint32_t>(g.inodes_per_group - index - 1);
    update_bitmap_csum(chosen, true, bits);
    UKFS_TRY(store_group(chosen));
    return static_cast<std::uint32_t>(std::uint64_t{chosen} * g.inodes_per_group + index + 1);
}

Result<void> Ext2Fs::free_inode(std::uint32_t ino, bool is_dir) {
    const Geometry& g = m_geometry;
    const std::uint32_t group = (ino - 1) / g.inodes_per_group;
    const std::uint32_t index = (ino - 1) % g.inodes_per_group;
    GroupInfo& gi = m_groups[group];
    io::BufRef buf = UKFS_TRY(bitmap(group, true));
    std::span<std::byte> bits = buf.mark_dirty();
    if (!test_bit(bits, index))
        return Error::corrupt(fmt::format("ext2fs: inode {}", ino),
                              "is freed but its bitmap says it is free already");
    clear_bit(bits, index);
    gi.free_inodes += 1;
    if (is_dir && gi.used_dirs > 0)
        gi.used_dirs -= 1;
    update_bitmap_csum(group, true, bits);
    return store_group(group);
}

Result<void> Ext2Fs::store_super(bool clean) {
    const Geometry& g = m_geometry;
    const auto [free_blocks, free_inodes] = free_totals();
    m_sb.s_free_blocks_count_lo.set(static_cast<std::uint32_t>(free_blocks));
    if (g.has_incompat(incompat_64bit))
        m_sb.s_free_blocks_count_hi.set(static_cast<std::uint32_t>(free_blocks >> 32));
    m_sb.s_free_inodes_count.set(static_cast<std::uint32_t>(free_inodes));
    std::uint16_t state = m_sb.s_state.get();
    state = static_cast<std::uint16_t>(clean ? state | state_valid : state & ~state_valid);
    m_sb.s_state.set(state);
    const auto now = static_cast<std::uint64_t>(this->now().tv_sec);
    m_sb.s_wtime.set(static_cast<std::uint32_t>(now));
    m_sb.s_wtime_hi = static_cast<std::uint8_t>(now >> 32);
    if (g.metadata_csum())
        m_sb.s_checksum.set(superblock_checksum(m_sb));
    io::BufRef buf = UKFS_TRY(m_cache->get(superblock_offset / g.block_size));
    std::span<std::byte> bytes = buf.mark_dirty();
    std::memcpy(bytes.data() + superblock_offset % g.block_size, &m_sb, sizeof m_sb);
    return {};
}

Result<void> Ext2Fs::add_compat_feature(std::uint32_t f) {
    m_geometry.feature_compat |= f;
    m_sb.s_feature_compat.set(m_sb.s_feature_compat.get() | f);
    return store_super(false);
}

Result<void> Ext2Fs::begin_writing() {
    const auto now = static_cast<std::uint64_t>(this->now().tv_sec);
    m_sb.s_mtime.set(static_cast<std::uint32_t>(now));
    m_sb.s_mtime_hi = static_cast<std::uint8_t>(now >> 32);
    m_sb.s_mnt_count.set(static_cast<std::uint16_t>(m_sb.s_mnt_count.get() + 1));
    UKFS_TRY(store_super(false));
    UKFS_TRY(m_cache->sync());  // the not-clean state reaches the device before
                                // anything else
    m_writing = true;
    return {};
}

Result<void> Ext2Fs::sync() {
    if (!m_writing)
        return {};
    UKFS_TRY(store_super(false));
    return m_cache->sync();
}

Result<void> Ext2Fs::unmount() {
    if (!m_writing)
        return {};
    UKFS_TRY(m_cache->sync());  // everything else first, then the clean state
    UKFS_TRY(store_super(true));
    UKFS_TRY(m_cache->sync());
    m_writing = false;
    return {};
}

}  // namespace uk::ext2fs
