// Boot sector -> Geometry, and type detection. Facts: the Microsoft FAT specification 1.03,
// sections 3 (BPB), 3.5 (FAT type determination) and 5 (FSInfo). Check order after
// e2fsprogs' openfs.c: raw field ranges, derived values, then the device size.
#include <bit>
#include <cerrno>
#include <iterator>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "base/checked.hpp"
#include "fs/msdosfs/fs.hpp"

namespace uk::msdosfs {

namespace {

Error bad_field(std::string_view field, std::uint64_t value) {
    return Error::not_this_fs(fmt::format("msdos: boot sector: {} {} is out of range", field,
                                          value));
}

std::string trim_label(const std::uint8_t (&lab)[11]) {
    std::string s(std::begin(lab), std::end(lab));
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0'))
        s.pop_back();
    return s;
}

}  // namespace

Result<Geometry> parse_boot_sector(std::span<const std::byte> sector, std::uint64_t dev_size) {
    const ByteView view(sector, "msdos: boot sector");
    if (sector.size() < bpb_min_bytes)
        return Error::not_this_fs("msdos: boot sector: too short");
    const auto bs = UKFS_TRY(view.read<BootSector>(0));
    if (sector[boot_signature_offset] != std::byte{0x55} ||
        sector[boot_signature_offset + 1] != std::byte{0xAA})
        return Error::not_this_fs("msdos: boot sector: no 0x55AA signature");
    if (bs.BS_jmpBoot[0] != 0xEB && bs.BS_jmpBoot[0] != 0xE9 && bs.BS_jmpBoot[0] != 0xE8)
        return bad_field("BS_jmpBoot[0]", bs.BS_jmpBoot[0]);

    Geometry g;
    g.bytes_per_sector = bs.BPB_BytsPerSec.get();
    if (g.bytes_per_sector < 512 || g.bytes_per_sector > 4096 ||
        !std::has_single_bit(g.bytes_per_sector))
        return bad_field("BPB_BytsPerSec", g.bytes_per_sector);
    g.log_sector = static_cast<std::uint32_t>(std::countr_zero(g.bytes_per_sector));
    g.sectors_per_cluster = bs.BPB_SecPerClus;
    if (g.sectors_per_cluster == 0 || !std::has_single_bit(g.sectors_per_cluster))
        return bad_field("BPB_SecPerClus", g.sectors_per_cluster);
    g.cluster_bytes = g.sectors_per_cluster * g.bytes_per_sector;
    g.reserved_sectors = bs.BPB_RsvdSecCnt.get();
    if (g.reserved_sectors == 0)
        return bad_field("BPB_RsvdSecCnt", 0);
    g.num_fats = bs.BPB_NumFATs;
    if (g.num_fats == 0 || g.num_fats > 16)
        return bad_field("BPB_NumFATs", g.num_fats);
    g.media = bs.BPB_Media;
    if (g.media != 0xF0 && g.media < 0xF8)
        return bad_field("BPB_Media", g.media);
    g.total_sectors = bs.BPB_TotSec16.get() != 0 ? bs.BPB_TotSec16.get() : bs.BPB_TotSec32.get();
    if (g.total_sectors == 0)
        return bad_field("BPB_TotSec32", 0);
    if (g.total_sectors > dev_size >> g.log_sector)
        return Error::not_this_fs(fmt::format(
            "msdos: boot sector: {} sectors of {} bytes do not fit the device's {} bytes",
            g.total_sectors, g.bytes_per_sector, dev_size));

    const bool fat32 = bs.BPB_FATSz16.get() == 0;
    g.fat_sectors = fat32 ? bs.BPB_FATSz32.get() : bs.BPB_FATSz16.get();
    if (g.fat_sectors == 0)
        return bad_field("BPB_FATSz32", 0);
    g.root_entries = bs.BPB_RootEntCnt.get();
    if (fat32 ? g.root_entries != 0 : g.root_entries == 0)
        return bad_field("BPB_RootEntCnt", g.root_entries);
    g.root_dir_sectors = static_cast<std::uint32_t>(
        ceil_div<std::uint64_t>(std::uint64_t{g.root_entries} * dirent_size, g.bytes_per_sector));
    g.root_dir_sector = g.reserved_sectors + std::uint64_t{g.num_fats} * g.fat_sectors;
    g.first_data_sector = g.root_dir_sector + g.root_dir_sectors;
    if (g.first_data_sector >= g.total_sectors)
        return Error::not_this_fs(fmt::format("msdos: boot sector: the data region starts at "
                                              "sector {}, past the volume's {} sectors",
                                              g.first_data_sector, g.total_sectors));
    std::uint64_t clusters = (g.total_sectors - g.first_data_sector) / g.sectors_per_cluster;
    if (clusters == 0)
        return Error::not_this_fs("msdos: boot sector: no data clusters");
    if (fat32)
        g.type = FatType::fat32;
    else
        g.type = clusters <= fat12_max_clusters ? FatType::fat12 : FatType::fat16;
    if (g.type == FatType::fat16 && clusters > fat16_max_clusters)
        return bad_field("cluster count for FAT16", clusters);
    clusters = std::min<std::uint64_t>(clusters, fat32_max_clusters);
    // The FAT must have an entry for every cluster; a short FAT limits the usable clusters,
    // as Linux does.
    const std::uint64_t fat_entries =
        std::uint64_t{g.fat_sectors} * g.bytes_per_sector * 8 / g.fat_bits();
    if (fat_entries <= first_cluster)
        return bad_field("FAT size", g.fat_sectors);
    clusters = std::min(clusters, fat_entries - first_cluster);
    g.cluster_count = static_cast<std::uint32_t>(clusters);

    std::uint32_t ext = boot_ext16_offset;
    if (fat32) {
        if (bs.BPB_FSVer.get() != 0)
            return bad_field("BPB_FSVer", bs.BPB_FSVer.get());
        g.root_cluster = bs.BPB_RootClus.get();
        if (!g.valid_cluster(g.root_cluster))
            return bad_field("BPB_RootClus", g.root_cluster);
        const std::uint16_t flags = bs.BPB_ExtFlags.get();
        g.mirrored = (flags & 0x80) == 0;
        g.active_fat = g.mirrored ? 0 : (flags & 0x0F);
        if (g.active_fat >= g.num_fats)
            return bad_field("BPB_ExtFlags active FAT", g.active_fat);
        g.fsinfo_sector = bs.BPB_FSInfo.get();
        if (g.fsinfo_sector == 0xFFFF || g.fsinfo_sector >= g.reserved_sectors)
            g.fsinfo_sector = 0;  // none: free counts are then computed
        ext = boot_ext32_offset;
    }
    const auto e = UKFS_TRY(view.read<BootExt16>(ext));
    if (e.BS_BootSig == ext_boot_sig) {
        g.volume_id = e.BS_VolID.get();
        g.label = trim_label(e.BS_VolLab);
        if (g.label == "NO NAME")
            g.label.clear();
    }
    return g;
}

int detect_msdos(io::BlockDevice& dev) {
    std::vector<std::byte> sector(bpb_min_bytes);
    if (dev.size() < sector.size() || !dev.read_at(0, sector))
        return 0;
    auto g = parse_boot_sector(sector, dev.size());
    if (!g)
        return 0;
    // The 0x55AA signature is shared with MBRs and other boot sectors: a sane BPB makes it
    // likely, a file system type string nearly certain; still below ext2fs' exact magic.
    const std::uint32_t type_off = g->type == FatType::fat32 ? 82 : 54;
    const bool named = sector[type_off] == std::byte{'F'} && sector[type_off + 1] == std::byte{'A'} &&
                       sector[type_off + 2] == std::byte{'T'};
    return named ? 80 : 60;
}

}  // namespace uk::msdosfs
