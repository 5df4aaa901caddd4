// mkfs for FAT12/16/32 (see mkfs.hpp). Facts: the Microsoft FAT specification 1.03, sections
// 3 (BPB), 3.5 (type by cluster count), 4 (FAT[0] and FAT[1]), 5 (FSInfo) and its FAT32
// cluster-size table; layout choices as dosfstools' mkfs.fat makes them (32 reserved sectors
// and the backup boot sector at 6 on FAT32, one reserved sector on FAT12/16, a label entry in
// the root when a label is given).
#include "fs/msdosfs/mkfs.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "fs/msdosfs/format.hpp"

namespace uk::msdosfs {

namespace {

struct Layout {
    int type = 16;
    std::uint32_t bps = 512, spc = 4, reserved = 1, fat_sectors = 0, root_sectors = 0;
    std::uint64_t total = 0, clusters = 0;
};

std::uint32_t fat32_spc(std::uint64_t bytes, std::uint32_t bps) {
    std::uint32_t cluster = bytes <= (std::uint64_t{8} << 30)    ? 4096
                            : bytes <= (std::uint64_t{16} << 30) ? 8192
                            : bytes <= (std::uint64_t{32} << 30) ? 16384
                                                                 : 32768;
    return std::max<std::uint32_t>(1, cluster / bps);
}

// Fill in the FAT size and cluster count for a chosen type and cluster size.
bool fit(Layout& l, std::uint32_t nfats, std::uint32_t root_entries) {
    l.reserved = l.type == 32 ? 32 : 1;
    l.root_sectors = l.type == 32 ? 0 : (root_entries * dirent_size + l.bps - 1) / l.bps;
    const std::uint32_t bits = static_cast<std::uint32_t>(l.type);
    std::uint64_t fat = 1;
    for (int i = 0; i < 8; ++i) {
        const std::uint64_t meta = l.reserved + nfats * fat + l.root_sectors;
        if (meta >= l.total)
            return false;
        l.clusters = (l.total - meta) / l.spc;
        const std::uint64_t need = ((l.clusters + 2) * bits / 8 + l.bps - 1) / l.bps;
        if (need == fat)
            break;
        fat = need;
    }
    l.fat_sectors = static_cast<std::uint32_t>(fat);
    const std::uint64_t meta = l.reserved + nfats * fat + l.root_sectors;
    l.clusters = (l.total - meta) / l.spc;
    // Every cluster must have a FAT entry.
    l.clusters = std::min(l.clusters, std::uint64_t{fat} * l.bps * 8 / bits - 2);
    switch (l.type) {
    case 12:
        return l.clusters >= 1 && l.clusters <= fat12_max_clusters;
    case 16:
        return l.clusters > fat12_max_clusters && l.clusters <= fat16_max_clusters;
    default:
        return l.clusters >= 1 && l.clusters <= fat32_max_clusters;
    }
}

Result<Layout> choose(std::uint64_t bytes, const MkfsOptions& o, std::uint32_t bps) {
    Layout l;
    l.bps = bps;
    l.total = bytes / bps;
    if (l.total > 0xFFFFFFFF)
        return Error::sys(EINVAL, "msdos: mkfs: the volume is larger than FAT can hold");
    std::vector<int> types;
    if (o.fat_type != 0)
        types = {o.fat_type};
    else if (bytes >= (std::uint64_t{512} << 20))
        types = {32};
    else
        types = {12, 16};
    for (int t : types) {
        l.type = t;
        std::vector<std::uint32_t> spcs;
        if (o.sectors_per_cluster != 0)
            spcs = {o.sectors_per_cluster};
        else if (t == 32)
            for (std::uint32_t s = fat32_spc(bytes, bps); s <= 128; s *= 2)
                spcs.push_back(s);
        else if (t == 12 && o.fat_type == 0)  // FAT12 only while 2 KiB clusters fit it
            spcs = {std::max<std::uint32_t>(1, 2048 / bps)};
        else
            for (std::uint32_t s = std::max<std::uint32_t>(1, 2048 / bps); s <= 128; s *= 2)
                spcs.push_back(s);
        for (std::uint32_t s : spcs) {
            l.spc = s;
            if (fit(l, o.num_fats, o.root_entries))
                return l;
        }
    }
    return Error::sys(EINVAL, fmt::format("msdos: mkfs: no FAT{} layout fits {} bytes with "
                                          "these options",
                                          o.fat_type, bytes));
}

void put16(std::vector<std::byte>& b, std::size_t off, std::uint32_t v) {
    b[off] = static_cast<std::byte>(v);
    b[off + 1] = static_cast<std::byte>(v >> 8);
}

void put32(std::vector<std::byte>& b, std::size_t off, std::uint32_t v) {
    put16(b, off, v & 0xFFFF);
    put16(b, off + 2, v >> 16);
}

std::vector<std::byte> boot_sector(const Layout& l, const MkfsOptions& o,
                                   const std::uint8_t (&label)[11]) {
    std::vector<std::byte> b(l.bps);
    const std::uint8_t head[] = {0xEB, 0x58, 0x90, 'u', 'k', 'f', 's', ' ', ' ', ' ', ' '};
    std::memcpy(b.data(), head, sizeof head);
    if (l.type != 32)
        b[1] = std::byte{0x3C};
    put16(b, 11, l.bps);
    b[13] = static_cast<std::byte>(l.spc);
    put16(b, 14, l.reserved);
    b[16] = static_cast<std::byte>(o.num_fats);
    put16(b, 17, l.type == 32 ? 0 : o.root_entries);
    if (l.total < 0x10000)
        put16(b, 19, static_cast<std::uint32_t>(l.total));
    else
        put32(b, 32, static_cast<std::uint32_t>(l.total));
    b[21] = std::byte{0xF8};
    put16(b, 22, l.type == 32 ? 0 : l.fat_sectors);
    put16(b, 24, 32);  // sectors per track, heads: geometry nobody uses
    put16(b, 26, 64);
    std::size_t ext = boot_ext16_offset;
    if (l.type == 32) {
        put32(b, 36, l.fat_sectors);
        put32(b, 44, first_cluster);  // the root directory
        put16(b, 48, 1);              // FSInfo
        put16(b, 50, 6);              // backup boot sector
        ext = boot_ext32_offset;
    }
    b[ext] = std::byte{0x80};
    b[ext + 2] = std::byte{ext_boot_sig};
    put32(b, ext + 3, o.volume_id);
    std::memcpy(b.data() + ext + 7, label, 11);
    const char* type = l.type == 12 ? "FAT12   " : l.type == 16 ? "FAT16   " : "FAT32   ";
    std::memcpy(b.data() + ext + 18, type, 8);
    b[boot_signature_offset] = std::byte{0x55};
    b[boot_signature_offset + 1] = std::byte{0xAA};
    return b;
}

}  // namespace

Result<void> mkfs(io::BlockDevice& dev, const MkfsOptions& o) {
    if (dev.read_only())
        return Error::sys(EROFS);
    const std::uint32_t bps = o.sector_size != 0 ? o.sector_size : std::max(512u, dev.sector_size());
    if (bps < 512 || bps > 4096 || !std::has_single_bit(bps))
        return Error::sys(EINVAL, fmt::format("msdos: mkfs: sector size {}", bps));
    if (o.sectors_per_cluster > 128 ||
        (o.sectors_per_cluster != 0 && !std::has_single_bit(o.sectors_per_cluster)))
        return Error::sys(EINVAL, "msdos: mkfs: sectors per cluster must be a power of two "
                                  "up to 128");
    if (o.fat_type != 0 && o.fat_type != 12 && o.fat_type != 16 && o.fat_type != 32)
        return Error::sys(EINVAL, "msdos: mkfs: the FAT type is 12, 16 or 32");
    if (o.num_fats < 1 || o.num_fats > 2)
        return Error::sys(EINVAL, "msdos: mkfs: one or two FATs");
    if (o.root_entries == 0 || o.root_entries % (bps / dirent_size) != 0 ||
        o.root_entries > 4096)
        return Error::sys(EINVAL, "msdos: mkfs: root entries fill whole sectors, at most 4096");
    if (o.label.size() > 11)
        return Error::sys(EINVAL, "msdos: mkfs: a label holds at most 11 characters");
    const std::uint64_t bytes = o.size != 0 ? std::min(o.size, dev.size()) : dev.size();
    const Layout l = UKFS_TRY(choose(bytes, o, bps));

    std::uint8_t label[11];
    std::memset(label, ' ', sizeof label);
    const std::string lab = o.label.empty() ? "NO NAME" : o.label;
    for (std::size_t i = 0; i < lab.size(); ++i) {
        char c = lab[i];
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 32);
        label[i] = static_cast<std::uint8_t>(c);
    }

    // Zero the metadata: reserved sectors, FATs, the root directory or root cluster.
    const std::uint64_t meta = l.reserved + std::uint64_t{o.num_fats} * l.fat_sectors +
                               l.root_sectors + (l.type == 32 ? l.spc : 0);
    const std::vector<std::byte> zeros(std::size_t{64} << 10);
    for (std::uint64_t off = 0; off < meta * bps;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), meta * bps - off));
        UKFS_TRY(dev.write_at(off, std::span(zeros).first(n)));
        off += n;
    }
    const std::vector<std::byte> boot = boot_sector(l, o, label);
    UKFS_TRY(dev.write_at(0, boot));
    if (l.type == 32) {
        std::vector<std::byte> fsi(bps);
        put32(fsi, fsi_lead_off, fsi_lead_sig);
        put32(fsi, fsi_struc_off, fsi_struc_sig);
        put32(fsi, fsi_free_off, static_cast<std::uint32_t>(l.clusters - 1));
        put32(fsi, fsi_next_off, first_cluster + 1);
        put32(fsi, fsi_trail_off, fsi_trail_sig);
        UKFS_TRY(dev.write_at(bps, fsi));
        UKFS_TRY(dev.write_at(6ull * bps, boot));
        UKFS_TRY(dev.write_at(7ull * bps, fsi));
    }
    // FAT[0] holds the media byte, FAT[1] end-of-chain with the clean bits; FAT32's root
    // directory is one cluster, ending its chain.
    std::vector<std::byte> fat0(12);
    std::size_t fat_len = 0;
    if (l.type == 12) {
        const std::uint8_t v[] = {0xF8, 0xFF, 0xFF};
        std::memcpy(fat0.data(), v, 3);
        fat_len = 3;
    } else if (l.type == 16) {
        put16(fat0, 0, 0xFFF8);
        put16(fat0, 2, 0xFFFF);
        fat_len = 4;
    } else {
        put32(fat0, 0, 0x0FFFFFF8);
        put32(fat0, 4, 0x0FFFFFFF);
        put32(fat0, 8, 0x0FFFFFFF);
        fat_len = 12;
    }
    for (std::uint32_t k = 0; k < o.num_fats; ++k)
        UKFS_TRY(dev.write_at((l.reserved + std::uint64_t{k} * l.fat_sectors) * bps,
                              std::span(fat0).first(fat_len)));
    if (!o.label.empty()) {
        DirEntryRaw e{};
        std::memcpy(e.DIR_Name, label, 11);
        e.DIR_Attr = attr_volume_id;
        std::vector<std::byte> raw(sizeof e);
        std::memcpy(raw.data(), &e, sizeof e);
        const std::uint64_t root = l.reserved + std::uint64_t{o.num_fats} * l.fat_sectors;
        UKFS_TRY(dev.write_at(root * bps, raw));
    }
    return dev.flush();
}

}  // namespace uk::msdosfs
