// Ext2Fs::info: the superblock as dumpe2fs -h shows it (its fields, in its order, under
// snake_case names).
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/time.hpp"
#include "fs/ext2fs/fs.hpp"

namespace uk::ext2fs {

namespace {

// A fixed-size, NUL-padded text field.
std::string text_field(const char* p, std::size_t n) {
    return std::string(p, strnlen(p, n));
}

std::string uuid_string(const std::uint8_t (&u)[16]) {
    return fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
                       "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                       u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                       u[12], u[13], u[14], u[15]);
}

std::int64_t time_hi(const le32& lo, std::uint8_t hi) {
    return static_cast<std::int64_t>(lo.get()) | (static_cast<std::int64_t>(hi) << 32);
}

}  // namespace

Result<std::vector<vfs::InfoField>> Ext2Fs::info() {
    const Superblock& sb = m_sb;
    const Geometry& g = m_geometry;
    std::string features;
    for (const std::string& part :
         {compat_names(g.feature_compat), incompat_names(g.feature_incompat),
          ro_compat_names(g.feature_ro_compat)})
        if (!part.empty())
            features += (features.empty() ? "" : " ") + part;
    std::replace(features.begin(), features.end(), '|', ' ');
    const std::uint16_t state = sb.s_state.get();
    std::string state_text = (state & state_valid) != 0 ? "clean" : "not clean";
    if ((state & state_error) != 0)
        state_text += " with errors";
    const auto [free_blocks, free_inodes] = free_totals();
    const char* hashes[] = {"legacy",          "half_md4",          "tea",
                            "legacy_unsigned", "half_md4_unsigned", "tea_unsigned",
                            "siphash"};

    std::vector<vfs::InfoField> f;
    auto add = [&](std::string name, std::string value) {
        f.push_back({std::move(name), std::move(value)});
    };
    add("volume_name", text_field(sb.s_volume_name, sizeof sb.s_volume_name));
    add("last_mounted_on", text_field(sb.s_last_mounted, sizeof sb.s_last_mounted));
    add("uuid", uuid_string(sb.s_uuid));
    add("magic", fmt::format("{:#06x}", sb.s_magic.get()));
    add("revision", std::to_string(sb.s_rev_level.get()));
    add("features", features);
    add("state", state_text);
    add("inode_count", std::to_string(g.inodes_count));
    add("block_count", std::to_string(g.blocks_count));
    add("reserved_block_count", std::to_string(g.reserved_blocks));
    add("free_blocks", std::to_string(free_blocks));
    add("free_inodes", std::to_string(free_inodes));
    add("first_block", std::to_string(g.first_data_block));
    add("block_size", std::to_string(g.block_size));
    add("reserved_gdt_blocks", std::to_string(g.reserved_gdt_blocks));
    add("group_count", std::to_string(g.group_count));
    add("blocks_per_group", std::to_string(g.blocks_per_group));
    add("inodes_per_group", std::to_string(g.inodes_per_group));
    add("inode_blocks_per_group", std::to_string(g.inode_table_blocks));
    add("first_inode", std::to_string(g.first_ino));
    add("inode_size", std::to_string(g.inode_size));
    add("group_descriptor_size", std::to_string(g.desc_size));
    add("created", format_utc(time_hi(sb.s_mkfs_time, sb.s_mkfs_time_hi)));
    add("last_mount_time", format_utc(time_hi(sb.s_mtime, sb.s_mtime_hi)));
    add("last_write_time", format_utc(time_hi(sb.s_wtime, sb.s_wtime_hi)));
    add("mount_count", std::to_string(sb.s_mnt_count.get()));
    add("maximum_mount_count", std::to_string(static_cast<std::int16_t>(sb.s_max_mnt_count.get())));
    add("last_checked", format_utc(time_hi(sb.s_lastcheck, sb.s_lastcheck_hi)));
    if (g.has_compat(compat_has_journal))
        add("journal_inode", std::to_string(sb.s_journal_inum.get()));
    if (g.has_compat(compat_dir_index)) {
        const std::uint8_t h = sb.s_def_hash_version;
        add("default_directory_hash", h < std::size(hashes) ? hashes[h] : std::to_string(h));
        std::uint8_t seed[16];
        for (int i = 0; i < 4; ++i) {
            const std::uint32_t w = sb.s_hash_seed[i].get();
            for (int b = 0; b < 4; ++b)
                seed[i * 4 + b] = static_cast<std::uint8_t>(w >> (8 * b));
        }
        add("directory_hash_seed", uuid_string(seed));
    }
    if (g.metadata_csum()) {
        add("checksum_type", "crc32c");
        add("checksum", fmt::format("{:#010x}", sb.s_checksum.get()));
    }
    return f;
}

}  // namespace uk::ext2fs
