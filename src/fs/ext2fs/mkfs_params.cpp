// fsu mkfs -t ext2fs -o words and the feature profiles (see mkfs.hpp). The profiles are
// Debian 12's /etc/mke2fs.conf: base_features sparse_super,large_file,filetype,resize_inode,
// dir_index,ext_attr; ext3 adds has_journal; ext4 adds has_journal,extent,huge_file,flex_bg,
// metadata_csum,64bit,dir_nlink,extra_isize. resize_inode is left out: we do not make it.
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "fs/ext2fs/format.hpp"
#include "fs/ext2fs/mkfs.hpp"

namespace uk::ext2fs {

namespace {

enum class Word { compat, incompat, ro_compat };

struct Feature {
    std::string_view name;
    Word word;
    std::uint32_t bit;
    bool makeable;
};

// mke2fs -O names (e2fsprogs lib/e2p/feature.c).
constexpr Feature features[] = {
    {"dir_prealloc", Word::compat, compat_dir_prealloc, false},
    {"imagic_inodes", Word::compat, compat_imagic_inodes, false},
    {"has_journal", Word::compat, compat_has_journal, true},
    {"ext_attr", Word::compat, compat_ext_attr, true},
    {"resize_inode", Word::compat, compat_resize_inode, false},
    {"dir_index", Word::compat, compat_dir_index, true},
    {"sparse_super2", Word::compat, compat_sparse_super2, false},
    {"fast_commit", Word::compat, 0x400, false},
    {"stable_inodes", Word::compat, 0x800, false},
    {"orphan_file", Word::compat, 0x1000, false},
    {"compression", Word::incompat, incompat_compression, false},
    {"filetype", Word::incompat, incompat_filetype, true},
    {"needs_recovery", Word::incompat, incompat_recover, false},
    {"journal_dev", Word::incompat, incompat_journal_dev, false},
    {"meta_bg", Word::incompat, incompat_meta_bg, false},
    {"extent", Word::incompat, incompat_extents, true},
    {"extents", Word::incompat, incompat_extents, true},
    {"64bit", Word::incompat, incompat_64bit, true},
    {"mmp", Word::incompat, incompat_mmp, false},
    {"flex_bg", Word::incompat, incompat_flex_bg, true},
    {"ea_inode", Word::incompat, incompat_ea_inode, false},
    {"large_xattr", Word::incompat, incompat_ea_inode, false},
    {"dirdata", Word::incompat, incompat_dirdata, false},
    {"metadata_csum_seed", Word::incompat, incompat_csum_seed, false},
    {"large_dir", Word::incompat, incompat_largedir, false},
    {"inline_data", Word::incompat, incompat_inline_data, false},
    {"encrypt", Word::incompat, incompat_encrypt, false},
    {"casefold", Word::incompat, incompat_casefold, false},
    {"fname_encoding", Word::incompat, incompat_casefold, false},
    {"sparse_super", Word::ro_compat, ro_compat_sparse_super, true},
    {"large_file", Word::ro_compat, ro_compat_large_file, true},
    {"huge_file", Word::ro_compat, ro_compat_huge_file, true},
    {"uninit_bg", Word::ro_compat, ro_compat_gdt_csum, true},
    {"uninit_groups", Word::ro_compat, ro_compat_gdt_csum, true},
    {"dir_nlink", Word::ro_compat, ro_compat_dir_nlink, true},
    {"extra_isize", Word::ro_compat, ro_compat_extra_isize, true},
    {"quota", Word::ro_compat, ro_compat_quota, false},
    {"bigalloc", Word::ro_compat, ro_compat_bigalloc, false},
    {"metadata_csum", Word::ro_compat, ro_compat_metadata_csum, true},
    {"replica", Word::ro_compat, ro_compat_replica, false},
    {"read-only", Word::ro_compat, ro_compat_readonly, false},
    {"project", Word::ro_compat, ro_compat_project, false},
    {"shared_blocks", Word::ro_compat, ro_compat_shared_blocks, false},
    {"verity", Word::ro_compat, ro_compat_verity, false},
};

std::uint32_t& word_of(MkfsOptions& o, Word w) {
    return w == Word::compat ? o.compat : w == Word::incompat ? o.incompat : o.ro_compat;
}

// Apply mke2fs -O words ("^feat" drops, "feat" adds, "none" clears) to `o`.
Result<void> edit_features(MkfsOptions& o, std::string_view list) {
    while (!list.empty()) {
        const std::size_t sep = list.find_first_of(",:");
        std::string_view word = list.substr(0, sep);
        list = sep == std::string_view::npos ? std::string_view{} : list.substr(sep + 1);
        if (word.empty())
            continue;
        if (word == "none") {
            o.compat = o.incompat = o.ro_compat = 0;
            continue;
        }
        const bool drop = word.front() == '^' || word.front() == '-';
        if (drop || word.front() == '+')
            word.remove_prefix(1);
        const Feature* found = nullptr;
        for (const Feature& f : features)
            if (f.name == word)
                found = &f;
        if (found == nullptr)
            return Error::sys(EINVAL, fmt::format("ext2fs mkfs: unknown feature \"{}\"", word));
        if (drop) {
            word_of(o, found->word) &= ~found->bit;
            continue;
        }
        if (!found->makeable)
            return Error::sys(EINVAL, fmt::format("ext2fs mkfs: cannot make feature \"{}\"", word));
        word_of(o, found->word) |= found->bit;
    }
    return {};
}

// 16 bytes as a UUID: 32 hex digits, dashes anywhere ignored.
Result<std::array<std::uint8_t, 16>> parse_uuid(const vfs::FormatParams::value_type& p) {
    std::array<std::uint8_t, 16> out{};
    std::size_t n = 0;
    for (char c : p.second) {
        if (c == '-')
            continue;
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0 || n >= 32)
            return Error::sys(EINVAL,
                              fmt::format("ext2fs mkfs: {}={}: not a UUID", p.first, p.second));
        out[n / 2] = static_cast<std::uint8_t>(out[n / 2] | (v << (n % 2 == 0 ? 4 : 0)));
        ++n;
    }
    if (n != 32)
        return Error::sys(EINVAL, fmt::format("ext2fs mkfs: {}={}: not a UUID", p.first, p.second));
    return out;
}

}  // namespace

Result<MkfsOptions> mkfs_defaults(const std::string& fstype) {
    MkfsOptions o;
    o.compat = compat_ext_attr | compat_dir_index;
    o.incompat = incompat_filetype;
    o.ro_compat = ro_compat_sparse_super | ro_compat_large_file;
    if (fstype == "ext2")
        return o;
    o.compat |= compat_has_journal;
    if (fstype == "ext3")
        return o;
    if (fstype != "ext4")
        return Error::sys(EINVAL, fmt::format("ext2fs mkfs: fstype={}: expected ext2, ext3 or "
                                              "ext4",
                                              fstype));
    o.incompat |= incompat_extents | incompat_flex_bg | incompat_64bit;
    o.ro_compat |=
        ro_compat_huge_file | ro_compat_metadata_csum | ro_compat_dir_nlink | ro_compat_extra_isize;
    return o;
}

Result<MkfsOptions> parse_mkfs_params(const vfs::FormatParams& params) {
    // The type decides the defaults the other words change: find it first.
    std::string fstype = "ext4";
    for (const auto& p : params)
        if (p.first == "fstype")
            fstype = p.second;
    MkfsOptions o = UKFS_TRY(mkfs_defaults(fstype));
    for (const auto& p : params) {
        const std::string& k = p.first;
        if (k == "fstype") {
            continue;
        } else if (k == "blocksize" || k == "block_size") {
            const auto v = UKFS_TRY(vfs::param_number(p, 1024, 65536));
            if (!std::has_single_bit(v))
                return Error::sys(
                    EINVAL, fmt::format("ext2fs mkfs: {}={}: not a power of two", k, p.second));
            o.block_size = static_cast<std::uint32_t>(v);
        } else if (k == "inode_size") {
            const auto v = UKFS_TRY(vfs::param_number(p, 128, 65536));
            if (!std::has_single_bit(v))
                return Error::sys(
                    EINVAL, fmt::format("ext2fs mkfs: {}={}: not a power of two", k, p.second));
            o.inode_size = static_cast<std::uint32_t>(v);
        } else if (k == "inode_ratio") {
            o.inode_ratio = UKFS_TRY(vfs::param_number(p, 1024, std::uint64_t{64} << 20));
        } else if (k == "features") {
            UKFS_TRY(edit_features(o, p.second));
        } else if (k == "journal_size") {
            o.journal_mib = UKFS_TRY(vfs::param_number(p, 1, 10240000));
            o.journal_blocks = 0;
        } else if (k == "journal_blocks") {
            o.journal_blocks = UKFS_TRY(vfs::param_number(p, 1024, 10240000));
            o.journal_mib = 0;
        } else if (k == "label") {
            if (p.second.size() > 16)
                return Error::sys(EINVAL, "ext2fs mkfs: label is longer than 16 bytes");
            o.label = p.second;
        } else if (k == "uuid") {
            o.uuid = UKFS_TRY(parse_uuid(p));
        } else if (k == "hash_seed") {
            o.hash_seed = UKFS_TRY(parse_uuid(p));
        } else if (k == "time") {
            o.time = static_cast<std::uint32_t>(UKFS_TRY(vfs::param_number(p, 0, 0x7FFFFFFF)));
        } else if (k == "seed") {
            o.seed = UKFS_TRY(vfs::param_number(p, 0, ~std::uint64_t{0}));
        } else if (k == "reserved_ratio") {
            char* end = nullptr;
            errno = 0;
            const double v = std::strtod(p.second.c_str(), &end);
            if (p.second.empty() || errno != 0 || end == nullptr || *end != '\0' ||
                !std::isfinite(v) || v < 0 || v > 50)
                return Error::sys(EINVAL, fmt::format("ext2fs mkfs: reserved_ratio={}: expected "
                                                      "a percentage from 0 to 50",
                                                      p.second));
            o.reserved_ratio = v;
        } else {
            return vfs::unknown_param("ext2fs", p);
        }
    }
    return o;
}

Result<void> mkfs_params(io::BlockDevice& dev, const vfs::FormatParams& params) {
    return mkfs(dev, UKFS_TRY(parse_mkfs_params(params)));
}

}  // namespace uk::ext2fs
