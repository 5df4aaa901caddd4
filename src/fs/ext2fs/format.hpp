// The ext2/ext3/ext4 on-disk format: structures (Packed little-endian fields named as in the
// kernel's Documentation/filesystems/ext4 and e2fsprogs' lib/ext2fs/ext2_fs.h), constants and
// feature bits. Private to the driver. Nothing here is trusted: superblock.cpp turns a
// Superblock into a validated Geometry, and every other structure is checked where it is read.
//
// Notes:
// - Everything is little-endian. Block n of the file system covers bytes
//   [n * block_size, (n + 1) * block_size); the superblock is always at byte 1024.
// - Inode numbers start at 1; inode 2 is the root. Inode i lives in group (i - 1) / ipg, at
//   index (i - 1) % ipg of that group's inode table.
// - A directory block is a chain of entries whose rec_len values add up to the block size
//   exactly; with metadata_csum the last 12 bytes of a leaf block are a DirEntryTail.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/endian.hpp"

namespace uk::ext2fs {

inline constexpr std::uint64_t superblock_offset = 1024;
inline constexpr std::uint32_t superblock_size = 1024;
inline constexpr std::uint16_t superblock_magic = 0xEF53;
inline constexpr std::uint32_t min_log_block_size = 10;  // 1 KiB
inline constexpr std::uint32_t max_log_block_size = 16;  // 64 KiB
inline constexpr std::uint32_t good_old_rev = 0;
inline constexpr std::uint32_t dynamic_rev = 1;
inline constexpr std::uint32_t good_old_first_ino = 11;
inline constexpr std::uint16_t good_old_inode_size = 128;
inline constexpr std::uint32_t root_ino = 2;
inline constexpr std::uint32_t creator_os_linux = 0;
inline constexpr std::uint16_t state_valid = 0x1;  // s_state: cleanly unmounted
inline constexpr std::uint16_t state_error = 0x2;  // s_state: errors detected
inline constexpr std::uint8_t checksum_type_crc32c = 1;

// Superblock s_feature_compat bits (super.rst "Superblock" table).
inline constexpr std::uint32_t compat_dir_prealloc = 0x1;
inline constexpr std::uint32_t compat_imagic_inodes = 0x2;
inline constexpr std::uint32_t compat_has_journal = 0x4;
inline constexpr std::uint32_t compat_ext_attr = 0x8;
inline constexpr std::uint32_t compat_resize_inode = 0x10;
inline constexpr std::uint32_t compat_dir_index = 0x20;
inline constexpr std::uint32_t compat_sparse_super2 = 0x200;

// s_feature_incompat bits.
inline constexpr std::uint32_t incompat_compression = 0x1;
inline constexpr std::uint32_t incompat_filetype = 0x2;
inline constexpr std::uint32_t incompat_recover = 0x4;
inline constexpr std::uint32_t incompat_journal_dev = 0x8;
inline constexpr std::uint32_t incompat_meta_bg = 0x10;
inline constexpr std::uint32_t incompat_extents = 0x40;
inline constexpr std::uint32_t incompat_64bit = 0x80;
inline constexpr std::uint32_t incompat_mmp = 0x100;
inline constexpr std::uint32_t incompat_flex_bg = 0x200;
inline constexpr std::uint32_t incompat_ea_inode = 0x400;
inline constexpr std::uint32_t incompat_dirdata = 0x1000;
inline constexpr std::uint32_t incompat_csum_seed = 0x2000;
inline constexpr std::uint32_t incompat_largedir = 0x4000;
inline constexpr std::uint32_t incompat_inline_data = 0x8000;
inline constexpr std::uint32_t incompat_encrypt = 0x10000;
inline constexpr std::uint32_t incompat_casefold = 0x20000;

// s_feature_ro_compat bits.
inline constexpr std::uint32_t ro_compat_sparse_super = 0x1;
inline constexpr std::uint32_t ro_compat_large_file = 0x2;
inline constexpr std::uint32_t ro_compat_btree_dir = 0x4;
inline constexpr std::uint32_t ro_compat_huge_file = 0x8;
inline constexpr std::uint32_t ro_compat_gdt_csum = 0x10;
inline constexpr std::uint32_t ro_compat_dir_nlink = 0x20;
inline constexpr std::uint32_t ro_compat_extra_isize = 0x40;
inline constexpr std::uint32_t ro_compat_has_snapshot = 0x80;
inline constexpr std::uint32_t ro_compat_quota = 0x100;
inline constexpr std::uint32_t ro_compat_bigalloc = 0x200;
inline constexpr std::uint32_t ro_compat_metadata_csum = 0x400;
inline constexpr std::uint32_t ro_compat_replica = 0x800;
inline constexpr std::uint32_t ro_compat_readonly = 0x1000;
inline constexpr std::uint32_t ro_compat_project = 0x2000;
inline constexpr std::uint32_t ro_compat_shared_blocks = 0x4000;
inline constexpr std::uint32_t ro_compat_verity = 0x8000;
inline constexpr std::uint32_t ro_compat_orphan_present = 0x10000;

// The superblock (super.rst "The Super Block"), 1024 bytes at byte 1024 of the device.
struct Superblock {
    le32 s_inodes_count;
    le32 s_blocks_count_lo;
    le32 s_r_blocks_count_lo;
    le32 s_free_blocks_count_lo;
    le32 s_free_inodes_count;
    le32 s_first_data_block;
    le32 s_log_block_size;  // block size is 2 ^ (10 + s_log_block_size)
    le32 s_log_cluster_size;
    le32 s_blocks_per_group;
    le32 s_clusters_per_group;
    le32 s_inodes_per_group;
    le32 s_mtime;
    le32 s_wtime;
    le16 s_mnt_count;
    le16 s_max_mnt_count;
    le16 s_magic;
    le16 s_state;
    le16 s_errors;
    le16 s_minor_rev_level;
    le32 s_lastcheck;
    le32 s_checkinterval;
    le32 s_creator_os;
    le32 s_rev_level;
    le16 s_def_resuid;
    le16 s_def_resgid;
    // Dynamic revision (s_rev_level 1) only from here on.
    le32 s_first_ino;
    le16 s_inode_size;
    le16 s_block_group_nr;
    le32 s_feature_compat;
    le32 s_feature_incompat;
    le32 s_feature_ro_compat;
    std::uint8_t s_uuid[16];
    char s_volume_name[16];
    char s_last_mounted[64];
    le32 s_algorithm_usage_bitmap;
    std::uint8_t s_prealloc_blocks;
    std::uint8_t s_prealloc_dir_blocks;
    le16 s_reserved_gdt_blocks;
    std::uint8_t s_journal_uuid[16];
    le32 s_journal_inum;
    le32 s_journal_dev;
    le32 s_last_orphan;
    le32 s_hash_seed[4];
    std::uint8_t s_def_hash_version;
    std::uint8_t s_jnl_backup_type;
    le16 s_desc_size;
    le32 s_default_mount_opts;
    le32 s_first_meta_bg;
    le32 s_mkfs_time;
    le32 s_jnl_blocks[17];
    le32 s_blocks_count_hi;  // 64bit feature only
    le32 s_r_blocks_count_hi;
    le32 s_free_blocks_count_hi;
    le16 s_min_extra_isize;
    le16 s_want_extra_isize;
    le32 s_flags;
    le16 s_raid_stride;
    le16 s_mmp_interval;
    le64 s_mmp_block;
    le32 s_raid_stripe_width;
    std::uint8_t s_log_groups_per_flex;
    std::uint8_t s_checksum_type;
    std::uint8_t s_encryption_level;
    std::uint8_t s_reserved_pad;
    le64 s_kbytes_written;
    le32 s_snapshot_inum;
    le32 s_snapshot_id;
    le64 s_snapshot_r_blocks_count;
    le32 s_snapshot_list;
    le32 s_error_count;
    le32 s_first_error_time;
    le32 s_first_error_ino;
    le64 s_first_error_block;
    std::uint8_t s_first_error_func[32];
    le32 s_first_error_line;
    le32 s_last_error_time;
    le32 s_last_error_ino;
    le32 s_last_error_line;
    le64 s_last_error_block;
    std::uint8_t s_last_error_func[32];
    std::uint8_t s_mount_opts[64];
    le32 s_usr_quota_inum;
    le32 s_grp_quota_inum;
    le32 s_overhead_blocks;
    le32 s_backup_bgs[2];
    std::uint8_t s_encrypt_algos[4];
    std::uint8_t s_encrypt_pw_salt[16];
    le32 s_lpf_ino;
    le32 s_prj_quota_inum;
    le32 s_checksum_seed;  // csum_seed feature: the seed instead of crc32c(s_uuid)
    std::uint8_t s_wtime_hi;
    std::uint8_t s_mtime_hi;
    std::uint8_t s_mkfs_time_hi;
    std::uint8_t s_lastcheck_hi;
    std::uint8_t s_first_error_time_hi;
    std::uint8_t s_last_error_time_hi;
    std::uint8_t s_first_error_errcode;
    std::uint8_t s_last_error_errcode;
    le16 s_encoding;
    le16 s_encoding_flags;
    le32 s_orphan_file_inum;
    le32 s_reserved[94];
    le32 s_checksum;  // crc32c(~0, bytes [0, 0x3FC)) with metadata_csum
};
static_assert(sizeof(Superblock) == superblock_size);
static_assert(offsetof(Superblock, s_magic) == 0x38);
static_assert(offsetof(Superblock, s_feature_compat) == 0x5C);
static_assert(offsetof(Superblock, s_desc_size) == 0xFE);
static_assert(offsetof(Superblock, s_blocks_count_hi) == 0x150);
static_assert(offsetof(Superblock, s_checksum_seed) == 0x270);
static_assert(offsetof(Superblock, s_checksum) == 0x3FC);

// Block group descriptor (group_descr.rst). 32 bytes without the 64bit feature; with it,
// s_desc_size bytes, of which the first 64 are this structure.
inline constexpr std::uint32_t desc_size_32 = 32;
inline constexpr std::uint32_t desc_size_64 = 64;
inline constexpr std::uint16_t bg_inode_uninit = 0x1;
inline constexpr std::uint16_t bg_block_uninit = 0x2;
inline constexpr std::uint16_t bg_inode_zeroed = 0x4;
struct GroupDesc {
    le32 bg_block_bitmap_lo;
    le32 bg_inode_bitmap_lo;
    le32 bg_inode_table_lo;
    le16 bg_free_blocks_count_lo;
    le16 bg_free_inodes_count_lo;
    le16 bg_used_dirs_count_lo;
    le16 bg_flags;
    le32 bg_exclude_bitmap_lo;
    le16 bg_block_bitmap_csum_lo;
    le16 bg_inode_bitmap_csum_lo;
    le16 bg_itable_unused_lo;
    le16 bg_checksum;
    // 64bit feature only from here on.
    le32 bg_block_bitmap_hi;
    le32 bg_inode_bitmap_hi;
    le32 bg_inode_table_hi;
    le16 bg_free_blocks_count_hi;
    le16 bg_free_inodes_count_hi;
    le16 bg_used_dirs_count_hi;
    le16 bg_itable_unused_hi;
    le32 bg_exclude_bitmap_hi;
    le16 bg_block_bitmap_csum_hi;
    le16 bg_inode_bitmap_csum_hi;
    le32 bg_reserved;
};
static_assert(sizeof(GroupDesc) == desc_size_64);
static_assert(offsetof(GroupDesc, bg_checksum) == 0x1E);

// Inode flags (inodes.rst "i_flags").
inline constexpr std::uint32_t inode_secrm_fl = 0x1;
inline constexpr std::uint32_t inode_immutable_fl = 0x10;
inline constexpr std::uint32_t inode_append_fl = 0x20;
inline constexpr std::uint32_t inode_nodump_fl = 0x40;
inline constexpr std::uint32_t inode_noatime_fl = 0x80;
inline constexpr std::uint32_t inode_encrypt_fl = 0x800;
inline constexpr std::uint32_t inode_index_fl = 0x1000;
inline constexpr std::uint32_t inode_huge_file_fl = 0x40000;
inline constexpr std::uint32_t inode_extents_fl = 0x80000;
inline constexpr std::uint32_t inode_ea_inode_fl = 0x200000;
inline constexpr std::uint32_t inode_inline_data_fl = 0x10000000;
inline constexpr std::uint32_t inode_casefold_fl = 0x40000000;

inline constexpr std::size_t n_blocks = 15;  // i_block entries
inline constexpr std::size_t n_direct = 12;
inline constexpr std::size_t i_block_bytes = n_blocks * 4;

// The inode (inodes.rst "Inode Table"): 128 bytes, then i_extra_isize bytes of the fields
// after i_extra_isize, then in-inode extended attributes up to s_inode_size.
struct Inode {
    le16 i_mode;
    le16 i_uid;
    le32 i_size_lo;
    le32 i_atime;
    le32 i_ctime;
    le32 i_mtime;
    le32 i_dtime;
    le16 i_gid;
    le16 i_links_count;
    le32 i_blocks_lo;
    le32 i_flags;
    le32 l_i_version;  // osd1 (Linux)
    le32 i_block[n_blocks];
    le32 i_generation;
    le32 i_file_acl_lo;
    le32 i_size_high;
    le32 i_obso_faddr;
    // osd2 (Linux)
    le16 l_i_blocks_high;
    le16 l_i_file_acl_high;
    le16 l_i_uid_high;
    le16 l_i_gid_high;
    le16 l_i_checksum_lo;
    le16 l_i_reserved;
    // Large inodes: present when 128 + i_extra_isize covers them.
    le16 i_extra_isize;
    le16 i_checksum_hi;
    le32 i_ctime_extra;
    le32 i_mtime_extra;
    le32 i_atime_extra;
    le32 i_crtime;
    le32 i_crtime_extra;
    le32 i_version_hi;
    le32 i_projid;
};
static_assert(sizeof(Inode) == 160);
static_assert(offsetof(Inode, i_block) == 0x28);
static_assert(offsetof(Inode, l_i_checksum_lo) == 0x7C);
static_assert(offsetof(Inode, i_extra_isize) == good_old_inode_size);
static_assert(offsetof(Inode, i_checksum_hi) == 0x82);

// Extent tree (ext4 "Extent Tree"): a header, then eh_entries indexes (depth > 0) or leaves
// (depth 0). The root lives in i_block (room for 4 entries); other nodes fill a block and end
// in an ExtentTail (a crc32c) with metadata_csum.
inline constexpr std::uint16_t extent_magic = 0xF30A;
inline constexpr std::uint16_t max_extent_depth = 5;
inline constexpr std::uint16_t init_max_len = 32768;  // ee_len above this: unwritten
struct ExtentHeader {
    le16 eh_magic;
    le16 eh_entries;
    le16 eh_max;
    le16 eh_depth;
    le32 eh_generation;
};
struct ExtentIndex {
    le32 ei_block;  // first file block this subtree covers
    le32 ei_leaf_lo;
    le16 ei_leaf_hi;
    le16 ei_unused;
};
struct Extent {
    le32 ee_block;
    le16 ee_len;
    le16 ee_start_hi;
    le32 ee_start_lo;
};
struct ExtentTail {
    le32 et_checksum;
};
static_assert(sizeof(ExtentHeader) == 12 && sizeof(ExtentIndex) == 12 && sizeof(Extent) == 12);

// Directory entries (directory.rst "Linear (Classic) Directories"). With the filetype feature
// the name length is one byte and a type byte follows; without it, name_len is 16 bits (the
// high byte is then ignored by Linux: names are at most 255 bytes).
inline constexpr std::uint32_t dirent_header_size = 8;
inline constexpr std::uint32_t name_max = 255;
struct DirEntryHeader {
    le32 inode;
    le16 rec_len;
    std::uint8_t name_len;
    std::uint8_t file_type;
};
static_assert(sizeof(DirEntryHeader) == dirent_header_size);

// file_type values.
inline constexpr std::uint8_t ft_unknown = 0;
inline constexpr std::uint8_t ft_reg_file = 1;
inline constexpr std::uint8_t ft_dir = 2;
inline constexpr std::uint8_t ft_chrdev = 3;
inline constexpr std::uint8_t ft_blkdev = 4;
inline constexpr std::uint8_t ft_fifo = 5;
inline constexpr std::uint8_t ft_sock = 6;
inline constexpr std::uint8_t ft_symlink = 7;
inline constexpr std::uint8_t ft_dir_csum = 0xDE;  // marks a DirEntryTail

// The leaf block checksum (directory.rst "Checksums"): a fake entry in the last 12 bytes.
struct DirEntryTail {
    le32 det_reserved_zero1;
    le16 det_rec_len;  // 12
    std::uint8_t det_reserved_zero2;
    std::uint8_t det_reserved_ft;  // 0xDE
    le32 det_checksum;             // crc32c(inode seed, block bytes before the tail)
};
static_assert(sizeof(DirEntryTail) == 12);

// Hash tree directories (directory.rst "Hash Tree Directories"). Block 0 is the root: fake "."
// and ".." entries (the second spans the block), a DxRootInfo, then DxCountLimit and DxEntry
// items. Interior nodes begin with a fake entry of inode 0 spanning the whole block.
struct DxRootInfo {
    le32 reserved_zero;
    std::uint8_t hash_version;
    std::uint8_t info_length;  // 8
    std::uint8_t indirect_levels;
    std::uint8_t unused_flags;
};
struct DxCountLimit {
    le16 limit;
    le16 count;
};
struct DxEntry {
    le32 hash;
    le32 block;
};
struct DxTail {
    le32 dt_reserved;
    le32 dt_checksum;
};
inline constexpr std::uint32_t dx_root_info_offset = 24;  // after "." (12) and ".." (12)
inline constexpr std::uint8_t dx_hash_legacy = 0;  // DxRootInfo hash_version, s_def_hash_version
inline constexpr std::uint8_t dx_hash_half_md4 = 1;
inline constexpr std::uint8_t dx_hash_tea = 2;
inline constexpr std::uint8_t dx_hash_unsigned_delta = 3;  // +3: the same hash, bytes unsigned
inline constexpr std::uint8_t dx_flag_incompat = 0x1;      // DxRootInfo unused_flags
// s_flags: which way the legacy, half_md4 and tea hashes read name bytes.
inline constexpr std::uint32_t flags_signed_hash = 0x1;
inline constexpr std::uint32_t flags_unsigned_hash = 0x2;
static_assert(sizeof(DxRootInfo) == 8 && sizeof(DxEntry) == 8 && sizeof(DxTail) == 8);

// Extended attributes (attributes.rst). In an inode, after 128 + i_extra_isize: a 4-byte
// magic, then entries; value offsets count from the first entry. In a block: a 32-byte
// header, then entries; value offsets count from the block start. Entries are 4-aligned and
// the list ends at 4 zero bytes.
inline constexpr std::uint32_t xattr_magic = 0xEA020000;
inline constexpr std::uint8_t xattr_index_system = 7;
struct XattrHeader {
    le32 h_magic;
    le32 h_refcount;
    le32 h_blocks;
    le32 h_hash;
    le32 h_checksum;
    le32 h_reserved[3];
};
struct XattrIbodyHeader {
    le32 h_magic;
};
struct XattrEntry {
    std::uint8_t e_name_len;
    std::uint8_t e_name_index;
    le16 e_value_offs;
    le32 e_value_inum;  // ea_inode feature: the value lives in this inode
    le32 e_value_size;
    le32 e_hash;
    // e_name (not NUL-terminated) follows
};
static_assert(sizeof(XattrHeader) == 32 && sizeof(XattrEntry) == 16);

// Inline data (inline_data.rst): a directory's i_block starts with its parent's inode number.
inline constexpr std::uint32_t inline_dir_parent_size = 4;

}  // namespace uk::ext2fs
