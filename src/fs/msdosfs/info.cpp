// Msdosfs::info: the boot sector's parameters and the derived layout, as fsstat and
// `fsck.fat -v` show them.
#include <fmt/format.h>

#include "fs/msdosfs/fs.hpp"

namespace uk::msdosfs {

Result<std::vector<vfs::InfoField>> Msdosfs::info() {
    const Geometry& g = m_geometry;
    std::vector<vfs::InfoField> f;
    auto add = [&](std::string name, std::string value) {
        f.push_back({std::move(name), std::move(value)});
    };
    add("fat_type", fmt::format("FAT{}", g.fat_bits()));
    add("volume_label", g.label);
    add("volume_id", fmt::format("{:04X}-{:04X}", g.volume_id >> 16, g.volume_id & 0xFFFF));
    add("bytes_per_sector", std::to_string(g.bytes_per_sector));
    add("sectors_per_cluster", std::to_string(g.sectors_per_cluster));
    add("cluster_size", std::to_string(g.cluster_bytes));
    add("reserved_sectors", std::to_string(g.reserved_sectors));
    add("fat_count", std::to_string(g.num_fats));
    add("sectors_per_fat", std::to_string(g.fat_sectors));
    add("fat_mirroring", g.mirrored ? "on" : fmt::format("off (active copy {})", g.active_fat));
    add("total_sectors", std::to_string(g.total_sectors));
    add("media", fmt::format("{:#04x}", g.media));
    if (g.type == FatType::fat32) {
        add("root_cluster", std::to_string(g.root_cluster));
        add("fsinfo_sector", g.fsinfo_sector != 0 ? std::to_string(g.fsinfo_sector) : "none");
    } else {
        add("root_entries", std::to_string(g.root_entries));
        add("root_dir_sector", std::to_string(g.root_dir_sector));
        add("root_dir_sectors", std::to_string(g.root_dir_sectors));
    }
    add("first_data_sector", std::to_string(g.first_data_sector));
    add("cluster_count", std::to_string(g.cluster_count));
    add("free_clusters", std::to_string(UKFS_TRY(count_free())));
    return f;
}

}  // namespace uk::msdosfs
