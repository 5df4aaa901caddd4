// Superblock -> Geometry: validation and derivation, and the feature gates.
// Facts: kernel Documentation/filesystems/ext4/super.rst and group_descr.rst; check order and
// limits after e2fsprogs lib/ext2fs/openfs.c and the kernel's ext4_fill_super() checks.
//
// Errors: a superblock that fails a check refuses the mount with EINVAL (as NetBSD's
// ext2fs_sbcheck() does), with a message naming the field and its value; a checksum mismatch
// is EIO.
#include "fs/ext2fs/superblock.hpp"

#include <bit>
#include <cerrno>
#include <cstring>
#include <span>
#include <string_view>

#include <fmt/format.h>

#include "base/checked.hpp"
#include "base/crc32c.hpp"

namespace uk::ext2fs {

namespace {

struct FeatureName {
    std::uint32_t bit;
    std::string_view name;
};

constexpr FeatureName incompat_table[] = {
    {incompat_compression, "compression"}, {incompat_filetype, "filetype"},
    {incompat_recover, "needs_recovery"},  {incompat_journal_dev, "journal_dev"},
    {incompat_meta_bg, "meta_bg"},         {incompat_extents, "extents"},
    {incompat_64bit, "64bit"},             {incompat_mmp, "mmp"},
    {incompat_flex_bg, "flex_bg"},         {incompat_ea_inode, "ea_inode"},
    {incompat_dirdata, "dirdata"},         {incompat_csum_seed, "metadata_csum_seed"},
    {incompat_largedir, "large_dir"},      {incompat_inline_data, "inline_data"},
    {incompat_encrypt, "encrypt"},         {incompat_casefold, "casefold"},
};

constexpr FeatureName compat_table[] = {
    {compat_dir_prealloc, "dir_prealloc"}, {compat_imagic_inodes, "imagic_inodes"},
    {compat_has_journal, "has_journal"},   {compat_ext_attr, "ext_attr"},
    {compat_resize_inode, "resize_inode"}, {compat_dir_index, "dir_index"},
    {0x40, "lazy_bg"},                     {0x80, "snapshot_exclude_inode"},
    {0x100, "snapshot_exclude_bitmap"},    {compat_sparse_super2, "sparse_super2"},
    {0x400, "fast_commit"},                {0x800, "stable_inodes"},
    {0x1000, "orphan_file"},
};

constexpr FeatureName ro_compat_table[] = {
    {ro_compat_sparse_super, "sparse_super"},     {ro_compat_large_file, "large_file"},
    {ro_compat_btree_dir, "btree_dir"},           {ro_compat_huge_file, "huge_file"},
    {ro_compat_gdt_csum, "uninit_bg"},            {ro_compat_dir_nlink, "dir_nlink"},
    {ro_compat_extra_isize, "extra_isize"},       {ro_compat_has_snapshot, "snapshot"},
    {ro_compat_quota, "quota"},                   {ro_compat_bigalloc, "bigalloc"},
    {ro_compat_metadata_csum, "metadata_csum"},   {ro_compat_replica, "replica"},
    {ro_compat_readonly, "read-only"},            {ro_compat_project, "project"},
    {ro_compat_shared_blocks, "shared_blocks"},   {ro_compat_verity, "verity"},
    {ro_compat_orphan_present, "orphan_present"},
};

// What the reader understands. Left out on purpose: compression and dirdata (never finished in
// Linux), journal_dev (an external journal is not a file system), encrypt and casefold (names
// would need keys or Unicode folding).
constexpr std::uint32_t incompat_supported =
    incompat_filetype | incompat_recover | incompat_meta_bg | incompat_extents | incompat_64bit |
    incompat_mmp | incompat_flex_bg | incompat_ea_inode | incompat_csum_seed | incompat_largedir |
    incompat_inline_data;

// What the writer keeps valid (needs_recovery is recovered at mount, journal.hpp). Left out:
// mmp (the MMP block would need updating), ea_inode, large_dir, inline_data (inline files and
// directories are not rewritten yet). Compat features outside this set (fast_commit,
// orphan_file, ...) are also refused for writing: a writer that ignores them could leave
// their structures stale.
constexpr std::uint32_t incompat_writable = incompat_filetype | incompat_meta_bg |
                                            incompat_extents | incompat_64bit | incompat_flex_bg |
                                            incompat_csum_seed;
constexpr std::uint32_t compat_writable = compat_dir_prealloc | compat_imagic_inodes |
                                          compat_has_journal | compat_ext_attr |
                                          compat_resize_inode | compat_dir_index |
                                          compat_sparse_super2;
// ro_compat features whose on-disk meaning the writer keeps valid; any other allows read-only
// mounts only.
constexpr std::uint32_t ro_compat_supported =
    ro_compat_sparse_super | ro_compat_large_file | ro_compat_huge_file | ro_compat_gdt_csum |
    ro_compat_dir_nlink | ro_compat_extra_isize | ro_compat_metadata_csum;

std::string names(std::span<const FeatureName> table, std::uint32_t mask) {
    std::string out;
    for (const FeatureName& f : table) {
        if ((mask & f.bit) == 0)
            continue;
        if (!out.empty())
            out += '|';
        out += f.name;
        mask &= ~f.bit;
    }
    if (mask != 0)
        out += fmt::format("{}{:#x}", out.empty() ? "" : "|", mask);
    return out;
}

Error bad_field(std::string_view field, std::uint64_t value, std::string_view why) {
    return Error::sys(EINVAL, fmt::format("ext2fs: superblock: {} {} {}", field, value, why));
}

bool is_power_of(std::uint32_t n, std::uint32_t base) {
    while (n > 1 && n % base == 0)
        n /= base;
    return n == 1;
}

// Block and cluster sizes, inode size and first inode: the fields that need nothing else.
Result<void> check_sizes(const Superblock& sb, Geometry& g) {
    const std::uint32_t rev = sb.s_rev_level.get();
    if (rev > dynamic_rev)
        return bad_field("s_rev_level", rev, "is newer than revision 1, the last one defined");
    const std::uint32_t log = sb.s_log_block_size.get();
    if (log > max_log_block_size - min_log_block_size)
        return bad_field("s_log_block_size", log, "is out of range (at most 6: 64 KiB blocks)");
    g.log_block_size = log + min_log_block_size;
    g.block_size = std::uint32_t{1} << g.log_block_size;
    const std::uint32_t log_cluster = sb.s_log_cluster_size.get();
    const bool bigalloc = (sb.s_feature_ro_compat.get() & ro_compat_bigalloc) != 0;
    if (!bigalloc && log_cluster != log)
        return bad_field("s_log_cluster_size", log_cluster, "differs from s_log_block_size");
    if (bigalloc && (log_cluster < log || log_cluster > log + 16))
        return bad_field("s_log_cluster_size", log_cluster, "is out of range for bigalloc");

    g.inode_size = rev == good_old_rev ? good_old_inode_size : sb.s_inode_size.get();
    if (g.inode_size < good_old_inode_size || !std::has_single_bit(g.inode_size) ||
        g.inode_size > g.block_size)
        return bad_field("s_inode_size", g.inode_size,
                         "is not a power of two from 128 to the block size");
    g.first_ino = rev == good_old_rev ? good_old_first_ino : sb.s_first_ino.get();
    if (g.first_ino < good_old_first_ino)
        return bad_field("s_first_ino", g.first_ino, "is below 11");
    return {};
}

// Block counts, groups and their products.
Result<void> check_groups(const Superblock& sb, Geometry& g) {
    const bool is64 = (sb.s_feature_incompat.get() & incompat_64bit) != 0;
    g.blocks_count = sb.s_blocks_count_lo.get() |
                     (is64 ? std::uint64_t{sb.s_blocks_count_hi.get()} << 32 : 0);
    g.first_data_block = sb.s_first_data_block.get();
    if (g.first_data_block >= g.blocks_count)
        return bad_field("s_first_data_block", g.first_data_block, "is not below s_blocks_count");
    const bool bigalloc = (sb.s_feature_ro_compat.get() & ro_compat_bigalloc) != 0;
    if (g.block_size == 1024 && g.first_data_block == 0 && !bigalloc)
        return bad_field("s_first_data_block", 0, "must be 1 with 1 KiB blocks");

    const std::uint32_t bits_per_block = 8 * g.block_size;  // a bitmap is one block
    g.blocks_per_group = sb.s_blocks_per_group.get();
    const std::uint64_t per_group_limit =
        bigalloc ? std::uint64_t{bits_per_block}
                       << (sb.s_log_cluster_size.get() - sb.s_log_block_size.get())
                 : bits_per_block;
    if (g.blocks_per_group < 8 || g.blocks_per_group > per_group_limit ||
        g.blocks_per_group % 8 != 0)
        return bad_field("s_blocks_per_group", g.blocks_per_group,
                         fmt::format("is not a multiple of 8 from 8 to {}", per_group_limit));
    g.inodes_per_group = sb.s_inodes_per_group.get();
    if (g.inodes_per_group == 0 || g.inodes_per_group > bits_per_block)
        return bad_field("s_inodes_per_group", g.inodes_per_group,
                         fmt::format("is not from 1 to {}", bits_per_block));
    g.inode_table_blocks = static_cast<std::uint32_t>(ceil_div<std::uint64_t>(
        std::uint64_t{g.inodes_per_group} * g.inode_size, g.block_size));

    const std::uint64_t groups =
        ceil_div<std::uint64_t>(g.blocks_count - g.first_data_block, g.blocks_per_group);
    if (groups > UINT32_MAX)
        return bad_field("s_blocks_count", g.blocks_count, "makes more than 2^32 groups");
    g.group_count = static_cast<std::uint32_t>(groups);
    g.inodes_count = sb.s_inodes_count.get();
    if (groups * g.inodes_per_group != g.inodes_count)
        return bad_field("s_inodes_count", g.inodes_count,
                         fmt::format("is not {} groups x {} inodes", groups, g.inodes_per_group));
    if (g.first_ino > g.inodes_count)
        return bad_field("s_first_ino", g.first_ino, "is past s_inodes_count");
    return {};
}

// Group descriptor size and where the descriptor table goes.
Result<void> check_descriptors(const Superblock& sb, Geometry& g) {
    if ((sb.s_feature_incompat.get() & incompat_64bit) != 0) {
        g.desc_size = sb.s_desc_size.get();
        if (g.desc_size < desc_size_64 || g.desc_size > 1024 || !std::has_single_bit(g.desc_size))
            return bad_field("s_desc_size", g.desc_size,
                             "is not a power of two from 64 to 1024 (64bit)");
    } else {
        g.desc_size = desc_size_32;
    }
    g.desc_per_block = g.block_size / g.desc_size;
    g.desc_blocks = static_cast<std::uint32_t>(ceil_div(g.group_count, g.desc_per_block));
    const std::uint32_t reserved_gdt = sb.s_reserved_gdt_blocks.get();
    if (reserved_gdt > g.block_size / 4)
        return bad_field("s_reserved_gdt_blocks", reserved_gdt, "is more than a block can map");
    if ((sb.s_feature_incompat.get() & incompat_meta_bg) != 0) {
        g.first_meta_bg = sb.s_first_meta_bg.get();
        if (g.first_meta_bg > g.desc_blocks)
            return bad_field("s_first_meta_bg", g.first_meta_bg,
                             fmt::format("is past the {} descriptor blocks", g.desc_blocks));
    } else {
        g.first_meta_bg = g.desc_blocks;
    }
    if (std::uint64_t{g.first_data_block} + 1 + g.first_meta_bg > g.blocks_count)
        return bad_field("s_blocks_count", g.blocks_count,
                         "leaves no room for the group descriptors");
    if ((sb.s_feature_incompat.get() & incompat_flex_bg) != 0 && sb.s_log_groups_per_flex > 31)
        return bad_field("s_log_groups_per_flex", sb.s_log_groups_per_flex, "is above 31");
    return {};
}

Result<void> check_checksum(const Superblock& sb, Geometry& g) {
    std::memcpy(g.uuid.data(), sb.s_uuid, g.uuid.size());
    if (!g.metadata_csum())
        return {};
    if (sb.s_checksum_type != checksum_type_crc32c)
        return bad_field("s_checksum_type", sb.s_checksum_type, "is not 1 (crc32c)");
    const std::uint32_t want = superblock_checksum(sb);
    if (sb.s_checksum.get() != want)
        return Error::corrupt("ext2fs: superblock",
                              fmt::format("checksum mismatch (stored {:#010x}, computed {:#010x})",
                                          sb.s_checksum.get(), want));
    g.csum_seed = g.has_incompat(incompat_csum_seed)
                      ? sb.s_checksum_seed.get()
                      : crc32c_update(~std::uint32_t{0}, std::as_bytes(std::span(sb.s_uuid)));
    return {};
}

}  // namespace

std::string compat_names(std::uint32_t mask) { return names(compat_table, mask); }
std::string incompat_names(std::uint32_t mask) { return names(incompat_table, mask); }
std::string ro_compat_names(std::uint32_t mask) { return names(ro_compat_table, mask); }

std::uint32_t superblock_checksum(const Superblock& sb) {
    const auto bytes = std::as_bytes(std::span(&sb, 1));
    return crc32c_update(~std::uint32_t{0}, bytes.first(offsetof(Superblock, s_checksum)));
}

bool Geometry::group_has_super(std::uint32_t group) const {
    if (group == 0)
        return true;
    if (has_compat(compat_sparse_super2))
        return group == backup_bgs[0] || group == backup_bgs[1];
    if (group == 1 || !has_ro_compat(ro_compat_sparse_super))
        return true;
    if (group % 2 == 0)
        return false;
    return is_power_of(group, 3) || is_power_of(group, 5) || is_power_of(group, 7);
}

Result<void> Geometry::check_blocks(std::uint64_t first, std::uint64_t count,
                                    const std::string& what) const {
    if (first < first_data_block || first >= blocks_count || count > blocks_count - first)
        return Error::corrupt(what, fmt::format("block {} (+{}) is outside the file system "
                                                "(blocks {} to {})",
                                                first, count, first_data_block, blocks_count - 1));
    return {};
}

Result<Superblock> read_superblock(io::BlockDevice& dev) {
    if (dev.size() < superblock_offset + superblock_size)
        return Error::not_this_fs(fmt::format("ext2fs: no superblock found (the device is only "
                                              "{} bytes)",
                                              dev.size()));
    Superblock sb;
    UKFS_TRY(dev.read_at(superblock_offset, std::as_writable_bytes(std::span(&sb, 1))));
    if (sb.s_magic.get() != superblock_magic)
        return Error::not_this_fs(
            fmt::format("ext2fs: no superblock found (magic {:#06x}, expected {:#06x})",
                        sb.s_magic.get(), superblock_magic));
    return sb;
}

Result<Geometry> derive_geometry(const Superblock& sb, std::uint64_t device_bytes) {
    if (sb.s_magic.get() != superblock_magic)
        return Error::not_this_fs("ext2fs: no superblock found (bad magic)");
    Geometry g;
    g.feature_compat = sb.s_feature_compat.get();
    g.feature_incompat = sb.s_feature_incompat.get();
    g.feature_ro_compat = sb.s_feature_ro_compat.get();
    g.backup_bgs = {sb.s_backup_bgs[0].get(), sb.s_backup_bgs[1].get()};
    g.creator_os = sb.s_creator_os.get();
    for (std::size_t i = 0; i < g.hash_seed.size(); ++i)
        g.hash_seed[i] = sb.s_hash_seed[i].get();
    g.def_hash_version = sb.s_def_hash_version;
    g.hash_unsigned = (sb.s_flags.get() & flags_unsigned_hash) != 0;
    g.reserved_gdt_blocks = sb.s_reserved_gdt_blocks.get();
    UKFS_TRY(check_sizes(sb, g));
    UKFS_TRY(check_groups(sb, g));
    UKFS_TRY(check_descriptors(sb, g));
    UKFS_TRY(check_checksum(sb, g));
    const std::uint64_t bytes = UKFS_TRY(checked_mul<std::uint64_t>(g.blocks_count, g.block_size));
    if (bytes > device_bytes)
        return bad_field("s_blocks_count", g.blocks_count,
                         fmt::format("needs {} bytes but the device has {}", bytes, device_bytes));
    const bool is64 = g.has_incompat(incompat_64bit);
    g.free_blocks = sb.s_free_blocks_count_lo.get() |
                    (is64 ? std::uint64_t{sb.s_free_blocks_count_hi.get()} << 32 : 0);
    g.reserved_blocks = sb.s_r_blocks_count_lo.get() |
                        (is64 ? std::uint64_t{sb.s_r_blocks_count_hi.get()} << 32 : 0);
    g.free_inodes = sb.s_free_inodes_count.get();
    return g;
}

Result<void> check_features(const Superblock& sb, bool read_only) {
    const std::uint32_t incompat = sb.s_feature_incompat.get() & ~incompat_supported;
    if (incompat != 0)
        return Error::sys(EINVAL, fmt::format("ext2fs: unsupported incompatible feature(s): {}",
                                              incompat_names(incompat)));
    if (read_only)
        return {};
    const std::uint32_t ro = sb.s_feature_ro_compat.get() & ~ro_compat_supported;
    if (ro != 0)
        return Error::sys(EROFS, fmt::format("ext2fs: feature(s) {} allow read-only mounts only",
                                             ro_compat_names(ro)));
    const bool internal_journal = (sb.s_feature_compat.get() & compat_has_journal) != 0 &&
                                  sb.s_journal_inum.get() != 0;
    if ((sb.s_feature_incompat.get() & incompat_recover) != 0 && !internal_journal)
        return Error::sys(EROFS, "ext2fs: needs_recovery is set but the journal is not an "
                                 "inode of this file system (external or missing): mount "
                                 "read-only or run e2fsck");
    const std::uint32_t in =
        sb.s_feature_incompat.get() & ~(incompat_writable | incompat_recover);
    if (in != 0)
        return Error::sys(EROFS, fmt::format("ext2fs: feature(s) {} are not supported for "
                                             "writing yet: mount read-only",
                                             incompat_names(in)));
    const std::uint32_t co = sb.s_feature_compat.get() & ~compat_writable;
    if (co != 0)
        return Error::sys(EROFS, fmt::format("ext2fs: feature(s) {} are not supported for "
                                             "writing: mount read-only",
                                             compat_names(co)));
    const std::uint16_t state = sb.s_state.get();
    if ((state & state_valid) == 0 || (state & state_error) != 0)
        return Error::sys(EROFS, "ext2fs: the file system was not cleanly unmounted or has "
                                 "errors (s_state): run e2fsck before mounting it read-write");
    if (sb.s_last_orphan.get() != 0)
        return Error::sys(EROFS, "ext2fs: the file system has orphan inodes to release "
                                 "(s_last_orphan): run e2fsck before mounting it read-write");
    return {};
}

}  // namespace uk::ext2fs
