// Inode load: find it (group, table block, offset), verify it (range, group
// state, i_extra_isize, checksum, mode), decode it (64-bit sizes, uid/gid high
// bits, nanosecond times, huge_file block counts). Facts: kernel ext4
// inodes.rst and attributes.rst ("Inline" xattrs); the all-zero inode rule is
// e2fsprogs' ext2fs_inode_csum_verify().
#include "fs/ext2fs/inode.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "fs/ext2fs/csum.hpp"

namespace uk::ext2fs {

namespace {

constexpr std::uint32_t epoch_mask = 0x3;
constexpr long max_nsec = 999'999'999;

// Whether a large-inode field lies inside 128 + i_extra_isize.
template <class Field>
bool fits(std::size_t offset, std::uint32_t extra) {
    return offset + sizeof(Field) <= good_old_inode_size + std::size_t{extra};
}

// Seconds are a signed 32-bit count; the extra word adds two epoch bits above
// them and holds the nanoseconds in its upper 30 bits.
timespec decode_time(const le32& base, const le32* extra) {
    std::int64_t sec = static_cast<std::int32_t>(base.get());
    long nsec = 0;
    if (extra != nullptr) {
        const std::uint32_t e = extra->get();
        sec += static_cast<std::int64_t>(e & epoch_mask) << 32;
        nsec = std::min<long>(static_cast<long>(e >> 2), max_nsec);
    }
    return {static_cast<time_t>(sec), nsec};
}

bool all_zero(std::span<const std::byte> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

Result<void> verify_checksum(const Geometry& g, const Inode& in, std::uint32_t ino,
                             std::uint32_t extra, ByteView raw, const std::string& what) {
    if (!g.metadata_csum() || g.creator_os != creator_os_linux || all_zero(raw.span()))
        return {};
    const bool with_hi =
        g.inode_size > good_old_inode_size && fits<le16>(offsetof(Inode, i_checksum_hi), extra);
    std::uint32_t stored = in.l_i_checksum_lo.get();
    if (with_hi)
        stored |= std::uint32_t{in.i_checksum_hi.get()} << 16;
    std::uint32_t computed = inode_checksum(g, ino, in.i_generation.get(), raw.span(), with_hi);
    if (!with_hi)
        computed &= 0xFFFF;
    return check_csum(stored, computed, what);
}

Result<std::uint32_t> extra_isize(const Geometry& g, const Inode& in, const std::string& what) {
    if (g.inode_size <= good_old_inode_size)
        return std::uint32_t{0};
    const std::uint32_t extra = in.i_extra_isize.get();
    if (good_old_inode_size + extra > g.inode_size || extra % 4 != 0)
        return Error::corrupt(what, fmt::format("i_extra_isize {} does not fit a {}-byte inode",
                                                extra, g.inode_size));
    return extra;
}

void decode_times(const Inode& in, std::uint32_t extra, InodeData& out) {
    auto x = [&](const le32& field, std::size_t off) -> const le32* {
        return fits<le32>(off, extra) ? &field : nullptr;
    };
    out.atime = decode_time(in.i_atime, x(in.i_atime_extra, offsetof(Inode, i_atime_extra)));
    out.mtime = decode_time(in.i_mtime, x(in.i_mtime_extra, offsetof(Inode, i_mtime_extra)));
    out.ctime = decode_time(in.i_ctime, x(in.i_ctime_extra, offsetof(Inode, i_ctime_extra)));
    if (fits<le32>(offsetof(Inode, i_crtime), extra))
        out.crtime =
            decode_time(in.i_crtime, x(in.i_crtime_extra, offsetof(Inode, i_crtime_extra)));
}

std::uint64_t decode_blocks(const Geometry& g, const Inode& in) {
    std::uint64_t n = in.i_blocks_lo.get();
    if (!g.has_ro_compat(ro_compat_huge_file))
        return n;
    n |= std::uint64_t{in.l_i_blocks_high.get()} << 32;
    if ((in.i_flags.get() & inode_huge_file_fl) != 0)
        n *= g.block_size / 512;  // counted in file system blocks
    return n;
}

Result<InodeData> decode(const Geometry& g, std::uint32_t ino, ByteView raw,
                         const std::string& what) {
    Inode in{};
    std::memcpy(&in, raw.data(), std::min<std::size_t>(raw.size(), sizeof in));
    const std::uint32_t extra = UKFS_TRY(extra_isize(g, in, what));
    UKFS_TRY(verify_checksum(g, in, ino, extra, raw, what));

    InodeData d;
    d.ino = ino;
    d.mode = in.i_mode.get();
    d.links = in.i_links_count.get();
    if (d.links == 0)
        return Error::corrupt(what, "is not in use (i_links_count 0)");
    d.type = vfs::ifmt_to_vtype(d.mode);
    if (d.type == VType::none)
        return Error::corrupt(what, fmt::format("i_mode {:#o} has no known file type", d.mode));
    d.flags = in.i_flags.get();
    if (d.uses_extents() && d.inline_data())
        return Error::corrupt(what, "has both the extents and the inline data flag");
    d.uid = in.i_uid.get() | std::uint32_t{in.l_i_uid_high.get()} << 16;
    d.gid = in.i_gid.get() | std::uint32_t{in.l_i_gid_high.get()} << 16;
    d.size = in.i_size_lo.get() | std::uint64_t{in.i_size_high.get()} << 32;
    d.blocks_512 = decode_blocks(g, in);
    d.generation = in.i_generation.get();
    d.file_acl = in.i_file_acl_lo.get();
    if (g.has_incompat(incompat_64bit))
        d.file_acl |= std::uint64_t{in.l_i_file_acl_high.get()} << 32;
    decode_times(in, extra, d);
    d.extra_isize = extra;
    d.dtime = in.i_dtime.get();
    std::memcpy(d.i_block.data(), in.i_block, i_block_bytes);
    const std::size_t xattr_start = good_old_inode_size + std::size_t{extra};
    d.ibody_xattrs.assign(raw.data() + xattr_start, raw.data() + raw.size());
    if (g.metadata_csum())
        d.csum_seed = inode_csum_seed(g, ino, d.generation);
    return d;
}

}  // namespace

std::uint32_t InodeData::i_block_word(std::size_t n) const {
    le32 v;
    std::memcpy(&v, i_block.data() + 4 * n, sizeof v);
    return v.get();
}

std::string InodeData::what() const {
    return fmt::format("ext2fs: inode {}", ino);
}

namespace {

// Where inode `ino` lives: the inode table block and the byte offset in it,
// after the range and group checks.
struct Slot {
    std::uint64_t block;
    std::uint32_t offset;
};

Result<Slot> locate(Ext2Fs& fs, std::uint64_t ino, const std::string& what, bool reserved = false) {
    const Geometry& g = fs.geometry();
    if (ino == 0 || ino > g.inodes_count)
        return Error::corrupt(
            "ext2fs", fmt::format("inode {} is out of range (1 to {})", ino, g.inodes_count));
    if (ino < g.first_ino && ino != root_ino && !reserved)
        return Error::corrupt(what, "is reserved for the file system's own use");
    const auto group = static_cast<std::uint32_t>((ino - 1) / g.inodes_per_group);
    const auto index = static_cast<std::uint32_t>((ino - 1) % g.inodes_per_group);
    const GroupInfo& gi = fs.group(group);
    if ((gi.flags & bg_inode_uninit) != 0)
        return Error::corrupt(what,
                              fmt::format("is in group {}, whose inodes are uninitialised", group));
    if (index >= g.inodes_per_group - gi.itable_unused)
        return Error::corrupt(
            what, fmt::format("is in the unused part of group {}'s inode table", group));
    const std::uint64_t byte = std::uint64_t{index} * g.inode_size;
    return Slot{gi.inode_table + byte / g.block_size,
                static_cast<std::uint32_t>(byte % g.block_size)};
}

void encode_time(const timespec& t, le32& base, le32* extra) {
    const auto sec = static_cast<std::int64_t>(t.tv_sec);
    base.set(static_cast<std::uint32_t>(sec));
    if (extra != nullptr) {
        const std::int64_t epoch = (sec - static_cast<std::int32_t>(sec)) >> 32;
        extra->set(static_cast<std::uint32_t>(epoch & epoch_mask) |
                   static_cast<std::uint32_t>(t.tv_nsec) << 2);
    }
}

Result<void> encode_blocks(const Geometry& g, const InodeData& d, Inode& in) {
    std::uint64_t n = d.blocks_512;
    std::uint32_t flags = d.flags & ~inode_huge_file_fl;
    if (n > 0xFFFFFFFFu) {
        if (!g.has_ro_compat(ro_compat_huge_file))
            return Error::sys(EFBIG, d.what() + ": too many blocks without huge_file");
        if (n >= std::uint64_t{1} << 48) {
            flags |= inode_huge_file_fl;
            n /= g.block_size / 512;
        }
    }
    in.i_blocks_lo.set(static_cast<std::uint32_t>(n));
    if (g.has_ro_compat(ro_compat_huge_file))
        in.l_i_blocks_high.set(static_cast<std::uint16_t>(n >> 32));
    in.i_flags.set(flags);
    return {};
}

}  // namespace

Result<InodeData> load_inode(Ext2Fs& fs, std::uint64_t ino, bool reserved) {
    const Geometry& g = fs.geometry();
    const std::string what = fmt::format("ext2fs: inode {}", ino);
    const Slot slot = UKFS_TRY(locate(fs, ino, what, reserved));
    io::BufRef buf = UKFS_TRY(fs.block(slot.block, what));
    const ByteView raw =
        UKFS_TRY(ByteView(buf.data(), "ext2fs: inode table").sub(slot.offset, g.inode_size));
    return decode(g, static_cast<std::uint32_t>(ino), raw, what);
}

Result<void> store_inode(Ext2Fs& fs, const InodeData& d) {
    const Geometry& g = fs.geometry();
    const Slot slot = UKFS_TRY(locate(fs, d.ino, d.what()));
    io::BufRef buf = UKFS_TRY(fs.block(slot.block, d.what()));
    const std::span<std::byte> raw = buf.mark_dirty().subspan(slot.offset, g.inode_size);
    const std::size_t known =
        std::min<std::size_t>(good_old_inode_size + d.extra_isize, sizeof(Inode));
    Inode in{};
    std::memcpy(&in, raw.data(), known);
    in.i_mode.set(d.mode);
    in.i_uid.set(static_cast<std::uint16_t>(d.uid));
    in.l_i_uid_high.set(static_cast<std::uint16_t>(d.uid >> 16));
    in.i_gid.set(static_cast<std::uint16_t>(d.gid));
    in.l_i_gid_high.set(static_cast<std::uint16_t>(d.gid >> 16));
    in.i_size_lo.set(static_cast<std::uint32_t>(d.size));
    in.i_size_high.set(static_cast<std::uint32_t>(d.size >> 32));
    in.i_links_count.set(d.links);
    UKFS_TRY(encode_blocks(g, d, in));
    in.i_generation.set(d.generation);
    in.i_file_acl_lo.set(static_cast<std::uint32_t>(d.file_acl));
    in.l_i_file_acl_high.set(static_cast<std::uint16_t>(d.file_acl >> 32));
    in.i_dtime.set(d.dtime);
    std::memcpy(in.i_block, d.i_block.data(), i_block_bytes);
    const std::uint32_t extra = d.extra_isize;
    auto x = [&](le32& field, std::size_t off) -> le32* {
        return fits<le32>(off, extra) ? &field : nullptr;
    };
    encode_time(d.atime, in.i_atime, x(in.i_atime_extra, offsetof(Inode, i_atime_extra)));
    encode_time(d.mtime, in.i_mtime, x(in.i_mtime_extra, offsetof(Inode, i_mtime_extra)));
    encode_time(d.ctime, in.i_ctime, x(in.i_ctime_extra, offsetof(Inode, i_ctime_extra)));
    if (fits<le32>(offsetof(Inode, i_crtime), extra))
        encode_time(d.crtime, in.i_crtime, x(in.i_crtime_extra, offsetof(Inode, i_crtime_extra)));
    std::memcpy(raw.data(), &in, known);
    const std::size_t body = good_old_inode_size + std::size_t{extra};
    if (!d.ibody_xattrs.empty() && body + d.ibody_xattrs.size() == g.inode_size)
        std::memcpy(raw.data() + body, d.ibody_xattrs.data(), d.ibody_xattrs.size());
    if (g.metadata_csum()) {
        const bool with_hi =
            g.inode_size > good_old_inode_size && fits<le16>(offsetof(Inode, i_checksum_hi), extra);
        const std::uint32_t c = inode_checksum(g, d.ino, d.generation, raw, with_hi);
        le16 v;
        v.set(static_cast<std::uint16_t>(c));
        std::memcpy(raw.data() + offsetof(Inode, l_i_checksum_lo), &v, 2);
        if (with_hi) {
            v.set(static_cast<std::uint16_t>(c >> 16));
            std::memcpy(raw.data() + offsetof(Inode, i_checksum_hi), &v, 2);
        }
    }
    return {};
}

Result<InodeData> new_inode(Ext2Fs& fs, std::uint32_t ino, std::uint16_t mode, std::uint32_t uid,
                            std::uint32_t gid, bool extents) {
    const Geometry& g = fs.geometry();
    InodeData d;
    d.ino = ino;
    const Slot slot = UKFS_TRY(locate(fs, ino, d.what()));
    d.type = vfs::ifmt_to_vtype(mode);
    d.mode = mode;
    d.uid = uid;
    d.gid = gid;
    d.links = 1;
    d.generation = fs.next_generation();
    if (g.inode_size > good_old_inode_size)
        d.extra_isize = static_cast<std::uint32_t>(std::min<std::size_t>(
            sizeof(Inode) - good_old_inode_size, g.inode_size - good_old_inode_size));
    d.atime = d.mtime = d.ctime = d.crtime = fs.now();
    if (g.metadata_csum())
        d.csum_seed = inode_csum_seed(g, ino, d.generation);
    if (extents) {
        d.flags |= inode_extents_fl;
        ExtentHeader h{};
        h.eh_magic.set(extent_magic);
        h.eh_max.set(static_cast<std::uint16_t>((i_block_bytes - sizeof h) / sizeof(Extent)));
        std::memcpy(d.i_block.data(), &h, sizeof h);
    }
    // The slot starts zeroed, with the extra fields' size; store_inode writes the rest.
    io::BufRef buf = UKFS_TRY(fs.block(slot.block, d.what()));
    const std::span<std::byte> raw = buf.mark_dirty().subspan(slot.offset, g.inode_size);
    std::fill(raw.begin(), raw.end(), std::byte{0});
    if (d.extra_isize != 0) {
        le16 v;
        v.set(static_cast<std::uint16_t>(d.extra_isize));
        std::memcpy(raw.data() + offsetof(Inode, i_extra_isize), &v, 2);
    }
    return d;
}

Result<XattrValue> find_ibody_xattr(const InodeData& inode, std::uint8_t index,
                                    std::string_view name) {
    const ByteView area(std::span<const std::byte>(inode.ibody_xattrs), "ext2fs: in-inode xattrs");
    if (area.size() < sizeof(XattrIbodyHeader) || UKFS_TRY(area.read<le32>(0)).get() != xattr_magic)
        return XattrValue{};
    const ByteView entries = UKFS_TRY(area.sub(4, area.size() - 4));
    const std::string what = inode.what() + ": in-inode xattrs";
    std::uint64_t pos = 0;
    while (entries.fits(pos, 4) && UKFS_TRY(entries.read<le32>(pos)).get() != 0) {
        const XattrEntry e = UKFS_TRY(entries.read<XattrEntry>(pos));
        const std::uint64_t len = (sizeof(XattrEntry) + e.e_name_len + 3u) & ~std::uint64_t{3};
        if (!entries.fits(pos, len))
            return Error::corrupt(what, fmt::format("entry at {} overruns the area", pos));
        const std::byte* name_at = entries.data() + pos + sizeof e;
        if (e.e_name_index == index && e.e_name_len == name.size() &&
            std::memcmp(name_at, name.data(), name.size()) == 0) {
            if (e.e_value_inum.get() != 0)
                return Error::corrupt(what, "a value in an EA inode is not supported yet");
            const ByteView v = UKFS_TRY(entries.sub(e.e_value_offs.get(), e.e_value_size.get()));
            return XattrValue{true, {v.span().begin(), v.span().end()}};
        }
        pos += len;
    }
    return XattrValue{};
}

}  // namespace uk::ext2fs
