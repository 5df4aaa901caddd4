// The FAT on-disk format: boot sector (BPB) fields, the FAT32 FSInfo sector, 32-byte directory
// entries and VFAT long-name entries. Field names are the Microsoft FAT specification's
// ("Microsoft Extensible Firmware Initiative FAT32 File System Specification", 1.03), where
// the facts come from.
//
// Notes:
// - The boot sector is the first sector; the BPB is read from its first 90 bytes, the
//   signature 0x55 0xAA sits at bytes 510-511 whatever the sector size.
// - The FAT type follows from BPB_FATSz16 (0: FAT32) and the cluster count (< 4085: FAT12,
//   else FAT16), as Linux and NetBSD decide it.
// - Directory entries are 32 bytes; a long name is a run of LFN entries (attribute 0x0F) in
//   reverse order just before its short entry, each carrying the short name's checksum.
#pragma once

#include <array>
#include <cstdint>

#include "base/endian.hpp"

namespace uk::msdosfs {

inline constexpr std::uint32_t boot_signature_offset = 510;
inline constexpr std::uint32_t bpb_min_bytes = 512;

// The BIOS parameter block and the FAT12/16 or FAT32 extension (offsets 0-89).
struct BootSector {
    std::uint8_t BS_jmpBoot[3];
    std::uint8_t BS_OEMName[8];
    le16 BPB_BytsPerSec;
    std::uint8_t BPB_SecPerClus;
    le16 BPB_RsvdSecCnt;
    std::uint8_t BPB_NumFATs;
    le16 BPB_RootEntCnt;
    le16 BPB_TotSec16;
    std::uint8_t BPB_Media;
    le16 BPB_FATSz16;
    le16 BPB_SecPerTrk;
    le16 BPB_NumHeads;
    le32 BPB_HiddSec;
    le32 BPB_TotSec32;
    // Offset 36: the FAT32 extension (FAT12/16 keep BS_DrvNum... here, see BootExt16).
    le32 BPB_FATSz32;
    le16 BPB_ExtFlags;
    le16 BPB_FSVer;
    le32 BPB_RootClus;
    le16 BPB_FSInfo;
    le16 BPB_BkBootSec;
    std::uint8_t BPB_Reserved[12];
    std::uint8_t BS_DrvNum;
    std::uint8_t BS_Reserved1;  // Linux and Windows keep a "dirty" bit (0x01) here
    std::uint8_t BS_BootSig;    // 0x29: the next three fields are valid
    le32 BS_VolID;
    std::uint8_t BS_VolLab[11];
    std::uint8_t BS_FilSysType[8];
};
static_assert(sizeof(BootSector) == 90);

// FAT12/16's extended boot record, at offset 36.
struct BootExt16 {
    std::uint8_t BS_DrvNum;
    std::uint8_t BS_Reserved1;
    std::uint8_t BS_BootSig;
    le32 BS_VolID;
    std::uint8_t BS_VolLab[11];
    std::uint8_t BS_FilSysType[8];
};
static_assert(sizeof(BootExt16) == 26);
inline constexpr std::uint32_t boot_ext16_offset = 36;
inline constexpr std::uint32_t boot_ext32_offset = 64;  // BS_DrvNum of the FAT32 layout
inline constexpr std::uint8_t ext_boot_sig = 0x29;

// The FAT32 FSInfo sector (its first 512 bytes).
inline constexpr std::uint32_t fsi_lead_sig = 0x41615252;
inline constexpr std::uint32_t fsi_struc_sig = 0x61417272;
inline constexpr std::uint32_t fsi_trail_sig = 0xAA550000;
inline constexpr std::uint32_t fsi_lead_off = 0, fsi_struc_off = 484, fsi_free_off = 488,
                               fsi_next_off = 492, fsi_trail_off = 508;
inline constexpr std::uint32_t fsi_unknown = 0xFFFFFFFF;

// FAT entries. Values are masked to the type's width (FAT32 uses 28 bits).
inline constexpr std::uint32_t fat_free = 0;
inline constexpr std::uint32_t first_cluster = 2;
// FAT[1]'s clean-shutdown and no-error bits (FAT16: 0x8000 / 0x4000; FAT32: 0x08000000 /
// 0x04000000); FAT12 has none.
inline constexpr std::uint32_t fat16_clean = 0x8000, fat16_noerr = 0x4000;
inline constexpr std::uint32_t fat32_clean = 0x08000000, fat32_noerr = 0x04000000;
inline constexpr std::uint32_t fat12_max_clusters = 4084;   // fewer than 4085
inline constexpr std::uint32_t fat16_max_clusters = 65524;  // fewer than 65525
inline constexpr std::uint32_t fat32_max_clusters = 0x0FFFFFF5 - 2;

// A 32-byte directory entry.
struct DirEntryRaw {
    std::uint8_t DIR_Name[11];
    std::uint8_t DIR_Attr;
    std::uint8_t DIR_NTRes;  // 0x08: base name in lower case, 0x10: extension in lower case
    std::uint8_t DIR_CrtTimeTenth;  // 10 ms units, 0-199
    le16 DIR_CrtTime;
    le16 DIR_CrtDate;
    le16 DIR_LstAccDate;
    le16 DIR_FstClusHI;
    le16 DIR_WrtTime;
    le16 DIR_WrtDate;
    le16 DIR_FstClusLO;
    le32 DIR_FileSize;
};
static_assert(sizeof(DirEntryRaw) == 32);
inline constexpr std::uint32_t dirent_size = 32;
inline constexpr std::uint32_t max_dir_entries = 65536;  // a directory holds at most this many

inline constexpr std::uint8_t attr_read_only = 0x01, attr_hidden = 0x02, attr_system = 0x04,
                              attr_volume_id = 0x08, attr_directory = 0x10, attr_archive = 0x20,
                              attr_long_name = 0x0F, attr_long_name_mask = 0x3F;
inline constexpr std::uint8_t ntres_lower_base = 0x08, ntres_lower_ext = 0x10;
inline constexpr std::uint8_t dir_free = 0xE5;  // DIR_Name[0] of a deleted entry
inline constexpr std::uint8_t dir_end = 0x00;   // this and every later entry are free
inline constexpr std::uint8_t dir_kanji_e5 = 0x05;  // DIR_Name[0] 0x05 stands for 0xE5

// A VFAT long-name entry: 13 UTF-16 units per entry, the last one (in disk order, the first)
// flagged with 0x40 in LDIR_Ord.
struct LfnEntry {
    std::uint8_t LDIR_Ord;
    std::uint8_t LDIR_Name1[10];
    std::uint8_t LDIR_Attr;
    std::uint8_t LDIR_Type;
    std::uint8_t LDIR_Chksum;
    std::uint8_t LDIR_Name2[12];
    le16 LDIR_FstClusLO;
    std::uint8_t LDIR_Name3[4];
};
static_assert(sizeof(LfnEntry) == 32);
inline constexpr std::uint8_t lfn_last = 0x40;
inline constexpr std::uint32_t lfn_chars = 13;
inline constexpr std::uint32_t lfn_max_entries = 20;  // 255 characters
inline constexpr std::uint32_t name_max = 255;

// The short-name checksum kept in every LFN entry of the name (spec, "ChkSum").
inline std::uint8_t short_name_checksum(const std::uint8_t (&name)[11]) {
    std::uint8_t sum = 0;
    for (std::uint8_t c : name)
        sum = static_cast<std::uint8_t>(((sum & 1) << 7) + (sum >> 1) + c);
    return sum;
}

}  // namespace uk::msdosfs
