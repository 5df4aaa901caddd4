// The group descriptor table: where it lives (classic layout or meta_bg), checksums (crc16 or
// crc32c), and the range of every table it points at. Facts: kernel ext4 group_descr.rst and
// blockgroup.rst ("Meta Block Groups"); e2fsprogs ext2fs_descriptor_block_loc2() and
// ext2fs_check_desc().
#include <cstring>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "fs/ext2fs/csum.hpp"
#include "fs/ext2fs/fs.hpp"

namespace uk::ext2fs {

namespace {

// The block holding descriptor block `i`. Before s_first_meta_bg the table follows the
// superblock; after it, each meta group's descriptors sit in the first block after the
// superblock copy (if any) of the meta group's first group.
std::uint64_t descriptor_block(const Geometry& g, std::uint32_t i) {
    if (i < g.first_meta_bg)
        return std::uint64_t{g.first_data_block} + 1 + i;
    const std::uint64_t group = std::uint64_t{i} * g.desc_per_block;
    const std::uint64_t first = g.first_data_block + group * g.blocks_per_group;
    return first + (g.group_has_super(static_cast<std::uint32_t>(group)) ? 1 : 0);
}

Result<GroupInfo> parse_group(const Geometry& g, std::uint32_t index, ByteView bytes) {
    const std::string what = fmt::format("ext2fs: group descriptor {}", index);
    const GroupDesc d = g.desc_size >= desc_size_64 ? UKFS_TRY(bytes.read<GroupDesc>(0)) : [&] {
        GroupDesc full{};
        std::memcpy(&full, bytes.data(), desc_size_32);
        return full;
    }();
    if (g.metadata_csum() || g.gdt_csum())
        UKFS_TRY(check_csum(d.bg_checksum.get(), group_desc_checksum(g, index, bytes.span()),
                            what));
    const bool is64 = g.desc_size >= desc_size_64;
    auto wide = [is64](const le32& lo, const le32& hi) {
        return lo.get() | (is64 ? std::uint64_t{hi.get()} << 32 : 0);
    };
    GroupInfo info;
    info.block_bitmap = wide(d.bg_block_bitmap_lo, d.bg_block_bitmap_hi);
    info.inode_bitmap = wide(d.bg_inode_bitmap_lo, d.bg_inode_bitmap_hi);
    info.inode_table = wide(d.bg_inode_table_lo, d.bg_inode_table_hi);
    info.free_blocks = d.bg_free_blocks_count_lo.get() |
                       (is64 ? std::uint64_t{d.bg_free_blocks_count_hi.get()} << 16 : 0);
    info.free_inodes = d.bg_free_inodes_count_lo.get() |
                       (is64 ? std::uint32_t{d.bg_free_inodes_count_hi.get()} << 16 : 0);
    info.used_dirs = d.bg_used_dirs_count_lo.get() |
                     (is64 ? std::uint32_t{d.bg_used_dirs_count_hi.get()} << 16 : 0);
    if (info.free_inodes > g.inodes_per_group || info.used_dirs > g.inodes_per_group ||
        info.free_blocks > g.blocks_per_group)
        return Error::corrupt(what, fmt::format("free or used counts ({} blocks, {} inodes, {} "
                                                "directories) are more than a group holds",
                                                info.free_blocks, info.free_inodes,
                                                info.used_dirs));
    UKFS_TRY(g.check_blocks(info.block_bitmap, 1, what + ": block bitmap"));
    UKFS_TRY(g.check_blocks(info.inode_bitmap, 1, what + ": inode bitmap"));
    UKFS_TRY(g.check_blocks(info.inode_table, g.inode_table_blocks, what + ": inode table"));
    if (g.metadata_csum() || g.gdt_csum()) {
        info.flags = d.bg_flags.get();
        info.block_bitmap_csum = d.bg_block_bitmap_csum_lo.get() |
                                 (is64 ? std::uint32_t{d.bg_block_bitmap_csum_hi.get()} << 16 : 0);
        info.inode_bitmap_csum = d.bg_inode_bitmap_csum_lo.get() |
                                 (is64 ? std::uint32_t{d.bg_inode_bitmap_csum_hi.get()} << 16 : 0);
        info.itable_unused = d.bg_itable_unused_lo.get() |
                             (is64 ? std::uint32_t{d.bg_itable_unused_hi.get()} << 16 : 0);
        if (info.itable_unused > g.inodes_per_group)
            return Error::corrupt(what, fmt::format("bg_itable_unused {} is more than the {} "
                                                    "inodes of a group",
                                                    info.itable_unused, g.inodes_per_group));
    }
    return info;
}

}  // namespace

std::pair<std::uint64_t, std::uint32_t> descriptor_location(const Geometry& g,
                                                           std::uint32_t group) {
    return {descriptor_block(g, group / g.desc_per_block),
            (group % g.desc_per_block) * g.desc_size};
}

void encode_group(const Geometry& g, std::uint32_t group, const GroupInfo& info,
                  std::span<std::byte> desc) {
    const bool is64 = g.desc_size >= desc_size_64;
    GroupDesc d{};
    std::memcpy(&d, desc.data(), is64 ? sizeof d : desc_size_32);
    auto lo16 = [](std::uint64_t v) { return static_cast<std::uint16_t>(v & 0xFFFF); };
    auto hi16 = [](std::uint64_t v) { return static_cast<std::uint16_t>((v >> 16) & 0xFFFF); };
    d.bg_free_blocks_count_lo.set(lo16(info.free_blocks));
    d.bg_free_inodes_count_lo.set(lo16(info.free_inodes));
    d.bg_used_dirs_count_lo.set(lo16(info.used_dirs));
    if (g.metadata_csum() || g.gdt_csum()) {
        d.bg_flags.set(info.flags);
        d.bg_itable_unused_lo.set(lo16(info.itable_unused));
    }
    if (g.metadata_csum()) {
        d.bg_block_bitmap_csum_lo.set(lo16(info.block_bitmap_csum));
        d.bg_inode_bitmap_csum_lo.set(lo16(info.inode_bitmap_csum));
    }
    if (is64) {
        d.bg_free_blocks_count_hi.set(hi16(info.free_blocks));
        d.bg_free_inodes_count_hi.set(hi16(info.free_inodes));
        d.bg_used_dirs_count_hi.set(hi16(info.used_dirs));
        if (g.metadata_csum() || g.gdt_csum())
            d.bg_itable_unused_hi.set(hi16(info.itable_unused));
        if (g.metadata_csum()) {
            d.bg_block_bitmap_csum_hi.set(hi16(info.block_bitmap_csum));
            d.bg_inode_bitmap_csum_hi.set(hi16(info.inode_bitmap_csum));
        }
    }
    std::memcpy(desc.data(), &d, is64 ? sizeof d : desc_size_32);
    if (g.metadata_csum() || g.gdt_csum()) {
        d.bg_checksum.set(group_desc_checksum(g, group, desc));
        std::memcpy(desc.data() + offsetof(GroupDesc, bg_checksum), &d.bg_checksum, 2);
    }
}

Result<std::vector<GroupInfo>> load_groups(const Geometry& g, io::BufferCache& cache) {
    std::vector<GroupInfo> groups;
    groups.reserve(g.group_count);  // bounded: derive_geometry fitted the table on the device
    for (std::uint32_t i = 0; i < g.desc_blocks; ++i) {
        const std::uint64_t at = descriptor_block(g, i);
        UKFS_TRY(g.check_blocks(at, 1, fmt::format("ext2fs: group descriptor block {}", i)));
        io::BufRef buf = UKFS_TRY(cache.get(at));
        const ByteView view(buf.data(), "ext2fs: group descriptor block");
        for (std::uint32_t k = 0; k < g.desc_per_block && groups.size() < g.group_count; ++k) {
            const auto index = static_cast<std::uint32_t>(groups.size());
            const ByteView desc = UKFS_TRY(view.sub(std::uint64_t{k} * g.desc_size, g.desc_size));
            groups.push_back(UKFS_TRY(parse_group(g, index, desc)));
        }
    }
    return groups;
}

}  // namespace uk::ext2fs
