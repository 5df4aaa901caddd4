// mkfs for ext2/ext3/ext4 (see mkfs.hpp): the layout from mkfs_layout.cpp, then every
// structure built in memory and written, the superblocks last. What mke2fs writes and we do
// too: zeroed inode tables (ITABLE_ZEROED), the reserved inodes 1 to 10 zeroed (with their
// checksums), inode 1 with the creation time, the root and lost+found with mode 0755 and 0700
// owned by 0:0, the journal in inode 8 zeroed after its superblock. Every block number comes
// from the layout and is checked against the device before writing.
#include "fs/ext2fs/mkfs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "base/crc32c.hpp"
#include "base/time.hpp"
#include "fs/ext2fs/csum.hpp"
#include "fs/ext2fs/format.hpp"
#include "fs/ext2fs/journal.hpp"
#include "fs/ext2fs/mkfs_layout.hpp"

namespace uk::ext2fs {

namespace {

using namespace mkfs_detail;

using Bytes = std::vector<std::byte>;

constexpr std::uint32_t jbd2_magic = 0xC03B3998;
constexpr std::uint32_t jbd2_superblock_v2 = 4;
constexpr std::uint32_t jbd2_incompat_csum_v3 = 0x10;
constexpr std::uint8_t jbd2_crc32c = 4;
constexpr std::uint32_t defm_xattr_user = 0x4;
constexpr std::uint32_t defm_acl = 0x8;
constexpr std::uint32_t flags_signed_hash = 0x1;
constexpr std::uint8_t hash_half_md4 = 1;
constexpr std::uint32_t jnl_backup_blocks = 1;
constexpr std::uint16_t extra_isize = sizeof(Inode) - good_old_inode_size;

// splitmix64: the UUIDs of a seeded run.
std::uint64_t next_random(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
    return z ^ (z >> 31);
}

// A random (version 4) UUID, from `state` when seeded.
std::array<std::uint8_t, 16> make_uuid(std::optional<std::uint64_t>& state) {
    std::array<std::uint8_t, 16> u{};
    if (state) {
        for (std::size_t i = 0; i < 16; i += 8) {
            const std::uint64_t v = next_random(*state);
            std::memcpy(u.data() + i, &v, 8);
        }
    } else {
        std::random_device rd;
        for (auto& b : u)
            b = static_cast<std::uint8_t>(rd());
    }
    u[6] = static_cast<std::uint8_t>((u[6] & 0x0F) | 0x40);
    u[8] = static_cast<std::uint8_t>((u[8] & 0x3F) | 0x80);
    return u;
}

void put_be32(Bytes& b, std::size_t at, std::uint32_t v) {
    be32 x;
    x.set(v);
    std::memcpy(b.data() + at, &x, 4);
}

template <class T>
void put(Bytes& b, std::size_t at, const T& v) {
    std::memcpy(b.data() + at, &v, sizeof v);
}

// Writes whole blocks inside the file system, counting the bytes for s_kbytes_written.
class Writer {
public:
    Writer(io::BlockDevice& dev, const Geometry& g) : m_dev(dev), m_g(g) {}

    Result<void> at(std::uint64_t offset, std::span<const std::byte> data) {
        const std::uint64_t fs_bytes = m_g.blocks_count * m_g.block_size;
        if (offset > fs_bytes || data.size() > fs_bytes - offset || fs_bytes > m_dev.size())
            return Error::sys(EIO, fmt::format("ext2fs mkfs: a write at byte {} (+{}) would "
                                               "leave the file system",
                                               offset, data.size()));
        UKFS_TRY(m_dev.write_at(offset, data));
        m_bytes += data.size();
        return {};
    }
    Result<void> block(std::uint64_t b, std::span<const std::byte> data) {
        if (b >= m_g.blocks_count)
            return Error::sys(EIO, fmt::format("ext2fs mkfs: block {} is outside", b));
        return at(b * m_g.block_size, data);
    }
    Result<void> zero(std::uint64_t b, std::uint64_t count) {
        const std::uint64_t chunk_blocks = std::max<std::uint64_t>(1, (1u << 20) / m_g.block_size);
        if (m_zeros.empty())
            m_zeros.resize(chunk_blocks * m_g.block_size);
        while (count > 0) {
            const std::uint64_t n = std::min(count, chunk_blocks);
            UKFS_TRY(block(b, std::span(m_zeros).first(n * m_g.block_size)));
            b += n;
            count -= n;
        }
        return {};
    }
    std::uint64_t bytes() const { return m_bytes; }

private:
    io::BlockDevice& m_dev;
    const Geometry& m_g;
    Bytes m_zeros;
    std::uint64_t m_bytes = 0;
};

struct Ctx {
    const MkfsOptions& o;
    Layout& l;
    Geometry& g;
    std::uint32_t now;
    std::array<std::uint8_t, 16> hash_seed{};
};

bool csum_groups(const Geometry& g) {
    return g.metadata_csum() || g.has_ro_compat(ro_compat_gdt_csum);
}

// Free counts and flags of every group, as mke2fs leaves them.
void fill_groups(Ctx& c) {
    Geometry& g = c.g;
    const bool flex = c.l.log_groups_per_flex != 0;
    std::uint64_t free_inodes = 0;
    for (std::uint32_t i = 0; i < g.group_count; ++i) {
        GroupPlan& gp = c.l.groups[i];
        const std::uint64_t first = group_first(g, i), end = group_end(g, i);
        const std::uint64_t used = c.l.used.used_in(first, end);
        gp.free_blocks = static_cast<std::uint32_t>(end - first - used);
        // Inodes 1 to first_ino are in use; the root and lost+found are directories.
        const std::uint64_t lo = std::uint64_t{i} * g.inodes_per_group + 1;
        const std::uint64_t hi = lo + g.inodes_per_group;  // exclusive
        const std::uint64_t last_used = std::min<std::uint64_t>(g.first_ino + 1, hi);
        const std::uint64_t used_inodes = last_used > lo ? last_used - lo : 0;
        gp.free_inodes = static_cast<std::uint32_t>(g.inodes_per_group - used_inodes);
        gp.used_dirs =
            (root_ino >= lo && root_ino < hi ? 1 : 0) + (lpf_ino >= lo && lpf_ino < hi ? 1 : 0);
        free_inodes += gp.free_inodes;
        if (!csum_groups(g))
            continue;
        gp.itable_unused = gp.free_inodes;
        gp.flags = bg_inode_zeroed;
        if (used_inodes == 0)
            gp.flags |= bg_inode_uninit;
        const std::uint64_t own = (g.group_has_super(i) ? 1 + g.desc_blocks : 0) +
                                  (flex ? 0 : 2 + std::uint64_t{g.inode_table_blocks});
        if (i != g.group_count - 1 && used == own)
            gp.flags |= bg_block_uninit;
    }
    g.free_inodes = static_cast<std::uint32_t>(free_inodes);
}

Bytes make_descriptors(const Ctx& c) {
    const Geometry& g = c.g;
    Bytes out(std::size_t{g.desc_blocks} * g.block_size);
    for (std::uint32_t i = 0; i < g.group_count; ++i) {
        const GroupPlan& gp = c.l.groups[i];
        GroupDesc d{};
        d.bg_block_bitmap_lo.set(static_cast<std::uint32_t>(gp.block_bitmap));
        d.bg_inode_bitmap_lo.set(static_cast<std::uint32_t>(gp.inode_bitmap));
        d.bg_inode_table_lo.set(static_cast<std::uint32_t>(gp.inode_table));
        d.bg_free_blocks_count_lo.set(static_cast<std::uint16_t>(gp.free_blocks));
        d.bg_free_inodes_count_lo.set(static_cast<std::uint16_t>(gp.free_inodes));
        d.bg_used_dirs_count_lo.set(static_cast<std::uint16_t>(gp.used_dirs));
        d.bg_flags.set(gp.flags);
        d.bg_itable_unused_lo.set(static_cast<std::uint16_t>(gp.itable_unused));
        d.bg_block_bitmap_hi.set(static_cast<std::uint32_t>(gp.block_bitmap >> 32));
        d.bg_inode_bitmap_hi.set(static_cast<std::uint32_t>(gp.inode_bitmap >> 32));
        d.bg_inode_table_hi.set(static_cast<std::uint32_t>(gp.inode_table >> 32));
        d.bg_free_blocks_count_hi.set(static_cast<std::uint16_t>(gp.free_blocks >> 16));
        d.bg_free_inodes_count_hi.set(static_cast<std::uint16_t>(gp.free_inodes >> 16));
        d.bg_itable_unused_hi.set(static_cast<std::uint16_t>(gp.itable_unused >> 16));
        std::memcpy(out.data() + std::size_t{i} * g.desc_size, &d, g.desc_size);
    }
    return out;
}

// Block and inode bitmaps of `group`; their checksums go into the descriptor table `gdt`.
std::pair<Bytes, Bytes> make_bitmaps(const Ctx& c, std::uint32_t group, Bytes& gdt) {
    const Geometry& g = c.g;
    Bytes bb(g.block_size), ib(g.block_size);
    auto set = [](Bytes& b, std::uint64_t bit) {
        b[bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
    };
    const std::uint64_t first = group_first(g, group), end = group_end(g, group);
    auto it = c.l.used.intervals().upper_bound(first);
    if (it != c.l.used.intervals().begin())
        --it;
    for (; it != c.l.used.intervals().end() && it->first < end; ++it)
        for (std::uint64_t b = std::max(first, it->first); b < std::min(end, it->second); ++b)
            set(bb, b - first);
    for (std::uint64_t bit = end - first; bit < std::uint64_t{g.block_size} * 8; ++bit)
        set(bb, bit);
    const std::uint32_t used_inodes = g.inodes_per_group - c.l.groups[group].free_inodes;
    for (std::uint32_t bit = 0; bit < used_inodes; ++bit)
        set(ib, bit);
    for (std::uint64_t bit = g.inodes_per_group; bit < std::uint64_t{g.block_size} * 8; ++bit)
        set(ib, bit);
    if (g.metadata_csum()) {
        const std::uint32_t bc =
            crc32c_update(g.csum_seed, std::span(bb).first(g.blocks_per_group / 8));
        const std::uint32_t ic =
            crc32c_update(g.csum_seed, std::span(ib).first(g.inodes_per_group / 8));
        GroupDesc d{};
        const std::size_t at = std::size_t{group} * g.desc_size;
        std::memcpy(&d, gdt.data() + at, g.desc_size);
        d.bg_block_bitmap_csum_lo.set(static_cast<std::uint16_t>(bc));
        d.bg_inode_bitmap_csum_lo.set(static_cast<std::uint16_t>(ic));
        d.bg_block_bitmap_csum_hi.set(static_cast<std::uint16_t>(bc >> 16));
        d.bg_inode_bitmap_csum_hi.set(static_cast<std::uint16_t>(ic >> 16));
        std::memcpy(gdt.data() + at, &d, g.desc_size);
    }
    return {std::move(bb), std::move(ib)};
}

void seal_descriptors(const Ctx& c, Bytes& gdt) {
    const Geometry& g = c.g;
    if (!csum_groups(g))
        return;
    for (std::uint32_t i = 0; i < g.group_count; ++i) {
        auto desc = std::span(gdt).subspan(std::size_t{i} * g.desc_size, g.desc_size);
        le16 sum;
        sum.set(group_desc_checksum(g, i, desc));
        std::memcpy(desc.data() + offsetof(GroupDesc, bg_checksum), &sum, 2);
    }
}

// An inode of inode_size bytes; large inodes get i_extra_isize 32 and a creation time.
Bytes make_inode(const Ctx& c, std::uint16_t mode, std::uint16_t links, std::uint64_t size,
                 std::uint64_t blocks, std::uint32_t flags, const Bytes& iblock) {
    const Geometry& g = c.g;
    Inode in{};
    in.i_mode.set(mode);
    in.i_links_count.set(links);
    in.i_size_lo.set(static_cast<std::uint32_t>(size));
    in.i_size_high.set(static_cast<std::uint32_t>(size >> 32));
    const std::uint64_t sectors = blocks * (g.block_size / 512);
    in.i_blocks_lo.set(static_cast<std::uint32_t>(sectors));
    in.l_i_blocks_high.set(static_cast<std::uint16_t>(sectors >> 32));
    in.i_flags.set(flags);
    in.i_atime.set(c.now);
    in.i_ctime.set(c.now);
    in.i_mtime.set(c.now);
    std::memcpy(&in.i_block, iblock.data(), std::min(iblock.size(), i_block_bytes));
    Bytes raw(g.inode_size);
    if (g.inode_size >= sizeof(Inode)) {
        in.i_extra_isize.set(extra_isize);
        in.i_crtime.set(c.now);
        put(raw, 0, in);
    } else {
        std::memcpy(raw.data(), &in, good_old_inode_size);
    }
    return raw;
}

void seal_inode(const Ctx& c, std::uint32_t ino, Bytes& raw) {
    if (!c.g.metadata_csum())
        return;
    le16 extra;
    if (raw.size() > good_old_inode_size)
        std::memcpy(&extra, raw.data() + offsetof(Inode, i_extra_isize), 2);
    const bool with_hi =
        raw.size() > good_old_inode_size && extra.get() >= 4;  // i_extra_isize covers i_checksum_hi
    const std::uint32_t sum = inode_checksum(c.g, ino, 0, raw, with_hi);
    le16 v;
    v.set(static_cast<std::uint16_t>(sum));
    std::memcpy(raw.data() + offsetof(Inode, l_i_checksum_lo), &v, 2);
    if (with_hi) {
        v.set(static_cast<std::uint16_t>(sum >> 16));
        std::memcpy(raw.data() + offsetof(Inode, i_checksum_hi), &v, 2);
    }
}

Result<void> write_inode(const Ctx& c, Writer& w, std::uint32_t ino, Bytes raw) {
    seal_inode(c, ino, raw);
    const Geometry& g = c.g;
    const std::uint32_t group = (ino - 1) / g.inodes_per_group;
    const std::uint64_t index = (ino - 1) % g.inodes_per_group;
    return w.at(c.l.groups[group].inode_table * g.block_size + index * g.inode_size, raw);
}

// i_block for `blocks` mapped as extents (each at most max_extent_len), depth 0.
Bytes extent_root(const std::vector<std::pair<std::uint64_t, std::uint32_t>>& extents) {
    Bytes ib(i_block_bytes);
    ExtentHeader h{};
    h.eh_magic.set(extent_magic);
    h.eh_entries.set(static_cast<std::uint16_t>(extents.size()));
    h.eh_max.set(4);
    put(ib, 0, h);
    std::uint32_t lblk = 0;
    for (std::size_t i = 0; i < extents.size(); ++i) {
        Extent e{};
        e.ee_block.set(lblk);
        e.ee_len.set(static_cast<std::uint16_t>(extents[i].second));
        e.ee_start_hi.set(static_cast<std::uint16_t>(extents[i].first >> 32));
        e.ee_start_lo.set(static_cast<std::uint32_t>(extents[i].first));
        put(ib, sizeof h + i * sizeof e, e);
        lblk += extents[i].second;
    }
    return ib;
}

// The i_block of a directory of contiguous-or-not blocks (at most 12).
Result<Bytes> dir_iblock(const Ctx& c, const std::vector<std::uint64_t>& blocks) {
    if (c.g.has_incompat(incompat_extents)) {
        std::vector<std::pair<std::uint64_t, std::uint32_t>> ext;
        for (std::uint64_t b : blocks)
            if (!ext.empty() && ext.back().first + ext.back().second == b)
                ++ext.back().second;
            else
                ext.emplace_back(b, 1);
        if (ext.size() > 4)
            return Error::sys(ENOSPC, "ext2fs mkfs: lost+found's blocks are too fragmented");
        return extent_root(ext);
    }
    Bytes ib(i_block_bytes);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        le32 v;
        v.set(static_cast<std::uint32_t>(blocks[i]));
        put(ib, i * 4, v);
    }
    return ib;
}

std::uint16_t rec_len(std::uint32_t len, std::uint32_t block_size) {
    if (len < 65536)
        return static_cast<std::uint16_t>(len);
    return block_size == 65536 ? 0xFFFF : 0;
}

// A directory block holding `entries` (inode, name; the last entry spans the rest), with a
// checksum tail under metadata_csum.
Bytes dir_block(const Ctx& c, std::uint32_t dir_ino,
                const std::vector<std::pair<std::uint32_t, std::string>>& entries) {
    const Geometry& g = c.g;
    const bool tail = g.metadata_csum();
    const std::uint32_t end =
        g.block_size - (tail ? static_cast<std::uint32_t>(sizeof(DirEntryTail)) : 0);
    const bool types = g.has_incompat(incompat_filetype);
    Bytes b(g.block_size);
    std::uint32_t at = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& [ino, name] = entries[i];
        const std::uint32_t len =
            (dirent_header_size + static_cast<std::uint32_t>(name.size()) + 3) & ~3u;
        const std::uint32_t rl = i + 1 == entries.size() ? end - at : len;
        DirEntryHeader h{};
        h.inode.set(ino);
        h.rec_len.set(rec_len(rl, g.block_size));
        h.name_len = static_cast<std::uint8_t>(name.size());
        h.file_type = types && ino != 0 ? ft_dir : 0;
        put(b, at, h);
        std::memcpy(b.data() + at + dirent_header_size, name.data(), name.size());
        at += rl;
    }
    if (tail) {
        DirEntryTail t{};
        t.det_rec_len.set(sizeof(DirEntryTail));
        t.det_reserved_ft = ft_dir_csum;
        t.det_checksum.set(crc32c_update(inode_csum_seed(g, dir_ino, 0), std::span(b).first(end)));
        put(b, end, t);
    }
    return b;
}

Result<void> write_directories(const Ctx& c, Writer& w) {
    const Geometry& g = c.g;
    UKFS_TRY(w.block(
        c.l.root_block,
        dir_block(c, root_ino, {{root_ino, "."}, {root_ino, ".."}, {lpf_ino, "lost+found"}})));
    UKFS_TRY(w.block(c.l.lpf_blocks[0], dir_block(c, lpf_ino, {{lpf_ino, "."}, {root_ino, ".."}})));
    for (std::size_t i = 1; i < c.l.lpf_blocks.size(); ++i)
        UKFS_TRY(w.block(c.l.lpf_blocks[i], dir_block(c, lpf_ino, {{0, ""}})));
    const std::uint32_t ext = g.has_incompat(incompat_extents) ? inode_extents_fl : 0;
    const Bytes root_map = UKFS_TRY(dir_iblock(c, {c.l.root_block}));
    UKFS_TRY(write_inode(c, w, root_ino, make_inode(c, 040755, 3, g.block_size, 1, ext, root_map)));
    const Bytes lpf_map = UKFS_TRY(dir_iblock(c, c.l.lpf_blocks));
    const std::uint64_t n = c.l.lpf_blocks.size();
    return write_inode(c, w, lpf_ino, make_inode(c, 040700, 2, n * g.block_size, n, ext, lpf_map));
}

// The journal superblock (JBD2 v2, journal.rst "Super Block"), big-endian.
Bytes journal_super(const Ctx& c) {
    const Geometry& g = c.g;
    Bytes b(g.block_size);
    put_be32(b, 0x0, jbd2_magic);
    put_be32(b, 0x4, jbd2_superblock_v2);
    put_be32(b, 0xC, g.block_size);
    put_be32(b, 0x10, static_cast<std::uint32_t>(c.l.journal_blocks));
    put_be32(b, 0x14, 1);  // s_first
    if (g.metadata_csum()) {
        put_be32(b, 0x28, jbd2_incompat_csum_v3);
        b[0x50] = std::byte{jbd2_crc32c};
    }
    std::memcpy(b.data() + 0x30, g.uuid.data(), 16);
    put_be32(b, 0x40, 1);  // s_nr_users
    reset_journal_super(b, 1);
    return b;
}

// Walks the journal's runs block by block (allocation order).
class RunCursor {
public:
    explicit RunCursor(const std::vector<Run>& runs) : m_runs(runs) {}
    // The next block; past the last run, a block number no device has.
    std::uint64_t next() {
        while (m_run < m_runs.size() && m_at >= m_runs[m_run].second) {
            ++m_run;
            m_at = 0;
        }
        if (m_run == m_runs.size())
            return ~std::uint64_t{0};
        return m_runs[m_run].first + m_at++;
    }

private:
    const std::vector<Run>& m_runs;
    std::size_t m_run = 0;
    std::uint64_t m_at = 0;
};

// An indirect block being filled: where it goes and its entries.
struct IndBlock {
    std::uint64_t where = 0;
    std::vector<le32> entries;
    std::size_t used = 0;
};

// Map the journal through indirect blocks, in the logical order mke2fs allocates: data,
// then each indirect block just before the data it maps. Writes the indirect blocks, fills
// `iblock` and returns the data blocks' runs.
Result<std::vector<Run>> map_indirect(const Ctx& c, Writer& w, Bytes& iblock) {
    const Geometry& g = c.g;
    const std::uint64_t apb = g.block_size / 4;
    RunCursor cur(c.l.journal_runs);
    std::vector<Run> data;
    IndBlock lv[3];  // single, double, triple levels being filled
    auto put_iblock = [&](std::size_t slot, std::uint64_t b) {
        le32 v;
        v.set(static_cast<std::uint32_t>(b));
        std::memcpy(iblock.data() + slot * 4, &v, 4);
    };
    auto flush = [&](IndBlock& ib) -> Result<void> {
        if (ib.where == 0)
            return {};
        Bytes raw(g.block_size);
        std::memcpy(raw.data(), ib.entries.data(), ib.entries.size() * 4);
        UKFS_TRY(w.block(ib.where, raw));
        ib = IndBlock{};
        return {};
    };
    auto open_ind = [&](IndBlock& ib) {
        ib.where = cur.next();
        ib.entries.assign(apb, le32{});
        ib.used = 0;
        return ib.where;
    };
    auto add = [&](IndBlock& ib, std::uint64_t b) {
        ib.entries[ib.used++].set(static_cast<std::uint32_t>(b));
    };
    for (std::uint64_t lblk = 0; lblk < c.l.journal_blocks; ++lblk) {
        if (lblk == n_direct) {
            put_iblock(12, open_ind(lv[0]));
        } else if (lblk == n_direct + apb) {
            UKFS_TRY(flush(lv[0]));
            put_iblock(13, open_ind(lv[1]));
            add(lv[1], open_ind(lv[0]));
        } else if (lblk == n_direct + apb + apb * apb) {
            UKFS_TRY(flush(lv[0]));
            UKFS_TRY(flush(lv[1]));
            put_iblock(14, open_ind(lv[2]));
            add(lv[2], open_ind(lv[1]));
            add(lv[1], open_ind(lv[0]));
        } else if (lblk > n_direct && lv[0].used == apb) {
            UKFS_TRY(flush(lv[0]));
            if (lv[1].used == apb) {
                UKFS_TRY(flush(lv[1]));
                add(lv[2], open_ind(lv[1]));
            }
            add(lv[1], open_ind(lv[0]));
        }
        const std::uint64_t b = cur.next();
        if (lblk < n_direct)
            put_iblock(lblk, b);
        else
            add(lv[0], b);
        if (!data.empty() && data.back().first + data.back().second == b)
            ++data.back().second;
        else
            data.emplace_back(b, 1);
    }
    for (IndBlock& ib : lv)
        UKFS_TRY(flush(ib));
    return data;
}

// The journal inode, its mapping and its blocks. Returns i_block (for s_jnl_blocks).
Result<Bytes> write_journal(const Ctx& c, Writer& w) {
    const Geometry& g = c.g;
    Bytes iblock(i_block_bytes);
    std::vector<Run> data = c.l.journal_runs;
    std::uint64_t index_blocks = 0;
    std::uint32_t flags = 0;
    if (g.has_incompat(incompat_extents)) {
        flags = inode_extents_fl;
        const auto extents = journal_extents(c.l.journal_runs);
        if (c.l.journal_leaves.empty()) {
            iblock = extent_root(extents);
        } else {
            const std::uint32_t cap = leaf_capacity(g.block_size);
            ExtentHeader root{};
            root.eh_magic.set(extent_magic);
            root.eh_entries.set(static_cast<std::uint16_t>(c.l.journal_leaves.size()));
            root.eh_max.set(4);
            root.eh_depth.set(1);
            put(iblock, 0, root);
            std::uint32_t lblk = 0;
            for (std::size_t leaf = 0; leaf < c.l.journal_leaves.size(); ++leaf) {
                const std::size_t from = leaf * cap;
                const std::size_t n = std::min<std::size_t>(cap, extents.size() - from);
                ExtentIndex idx{};
                idx.ei_block.set(lblk);
                idx.ei_leaf_lo.set(static_cast<std::uint32_t>(c.l.journal_leaves[leaf]));
                idx.ei_leaf_hi.set(static_cast<std::uint16_t>(c.l.journal_leaves[leaf] >> 32));
                put(iblock, sizeof root + leaf * sizeof idx, idx);
                Bytes node(g.block_size);
                ExtentHeader h{};
                h.eh_magic.set(extent_magic);
                h.eh_entries.set(static_cast<std::uint16_t>(n));
                h.eh_max.set(static_cast<std::uint16_t>(cap));
                put(node, 0, h);
                for (std::size_t i = 0; i < n; ++i) {
                    const auto& [start, len] = extents[from + i];
                    Extent e{};
                    e.ee_block.set(lblk);
                    e.ee_len.set(static_cast<std::uint16_t>(len));
                    e.ee_start_hi.set(static_cast<std::uint16_t>(start >> 32));
                    e.ee_start_lo.set(static_cast<std::uint32_t>(start));
                    put(node, sizeof h + i * sizeof e, e);
                    lblk += len;
                }
                if (g.metadata_csum()) {
                    const std::size_t tail_at = sizeof h + std::size_t{cap} * sizeof(Extent);
                    le32 sum;
                    sum.set(crc32c_update(inode_csum_seed(g, journal_ino, 0),
                                          std::span(node).first(tail_at)));
                    put(node, tail_at, sum);
                }
                UKFS_TRY(w.block(c.l.journal_leaves[leaf], node));
            }
            index_blocks = c.l.journal_leaves.size();
        }
    } else {
        data = UKFS_TRY(map_indirect(c, w, iblock));
        index_blocks = 0;
        for (const Run& r : c.l.journal_runs)
            index_blocks += r.second;
        index_blocks -= c.l.journal_blocks;
    }
    UKFS_TRY(w.block(data.front().first, journal_super(c)));
    for (std::size_t i = 0; i < data.size(); ++i) {
        const std::uint64_t skip = i == 0 ? 1 : 0;
        UKFS_TRY(w.zero(data[i].first + skip, data[i].second - skip));
    }
    Bytes raw = make_inode(c, 0100600, 1, c.l.journal_blocks * g.block_size,
                           c.l.journal_blocks + index_blocks, flags, iblock);
    UKFS_TRY(write_inode(c, w, journal_ino, std::move(raw)));
    return iblock;
}

Superblock make_superblock(const Ctx& c, std::uint64_t kbytes, const Bytes& jnl_iblock) {
    const Geometry& g = c.g;
    Superblock sb{};
    sb.s_inodes_count.set(g.inodes_count);
    sb.s_blocks_count_lo.set(static_cast<std::uint32_t>(g.blocks_count));
    sb.s_blocks_count_hi.set(static_cast<std::uint32_t>(g.blocks_count >> 32));
    sb.s_r_blocks_count_lo.set(static_cast<std::uint32_t>(c.l.reserved_blocks));
    sb.s_r_blocks_count_hi.set(static_cast<std::uint32_t>(c.l.reserved_blocks >> 32));
    sb.s_free_blocks_count_lo.set(static_cast<std::uint32_t>(g.free_blocks));
    sb.s_free_blocks_count_hi.set(static_cast<std::uint32_t>(g.free_blocks >> 32));
    sb.s_free_inodes_count.set(g.free_inodes);
    sb.s_first_data_block.set(g.first_data_block);
    sb.s_log_block_size.set(g.log_block_size - 10);
    sb.s_log_cluster_size.set(g.log_block_size - 10);
    sb.s_blocks_per_group.set(g.blocks_per_group);
    sb.s_clusters_per_group.set(g.blocks_per_group);
    sb.s_inodes_per_group.set(g.inodes_per_group);
    sb.s_wtime.set(c.now);
    sb.s_max_mnt_count.set(0xFFFF);
    sb.s_magic.set(superblock_magic);
    sb.s_state.set(state_valid);
    sb.s_errors.set(1);  // continue
    sb.s_lastcheck.set(c.now);
    sb.s_creator_os.set(creator_os_linux);
    sb.s_rev_level.set(dynamic_rev);
    sb.s_first_ino.set(g.first_ino);
    sb.s_inode_size.set(static_cast<std::uint16_t>(g.inode_size));
    sb.s_feature_compat.set(g.feature_compat);
    sb.s_feature_incompat.set(g.feature_incompat);
    sb.s_feature_ro_compat.set(g.feature_ro_compat);
    std::memcpy(sb.s_uuid, g.uuid.data(), 16);
    std::memcpy(sb.s_volume_name, c.o.label.data(), std::min<std::size_t>(16, c.o.label.size()));
    std::memcpy(sb.s_hash_seed, c.hash_seed.data(), 16);
    sb.s_def_hash_version = hash_half_md4;
    if (g.has_incompat(incompat_64bit))
        sb.s_desc_size.set(static_cast<std::uint16_t>(g.desc_size));
    sb.s_default_mount_opts.set(defm_xattr_user | defm_acl);
    sb.s_mkfs_time.set(c.now);
    if (g.inode_size >= sizeof(Inode)) {
        sb.s_min_extra_isize.set(extra_isize);
        sb.s_want_extra_isize.set(extra_isize);
    }
    sb.s_flags.set(flags_signed_hash);
    sb.s_log_groups_per_flex = static_cast<std::uint8_t>(c.l.log_groups_per_flex);
    sb.s_kbytes_written.set(kbytes);
    sb.s_overhead_blocks.set(static_cast<std::uint32_t>(c.l.overhead));
    if (g.has_compat(compat_has_journal)) {
        sb.s_journal_inum.set(journal_ino);
        sb.s_jnl_backup_type = jnl_backup_blocks;
        std::memcpy(sb.s_jnl_blocks, jnl_iblock.data(), i_block_bytes);
        const std::uint64_t size = c.l.journal_blocks * g.block_size;
        sb.s_jnl_blocks[15].set(static_cast<std::uint32_t>(size >> 32));
        sb.s_jnl_blocks[16].set(static_cast<std::uint32_t>(size));
    }
    if (g.metadata_csum())
        sb.s_checksum_type = checksum_type_crc32c;
    return sb;
}

}  // namespace

Result<void> mkfs(io::BlockDevice& dev, const MkfsOptions& options) {
    if (dev.read_only())
        return Error::sys(EROFS, "ext2fs mkfs: the device is read-only");
    Layout l = UKFS_TRY(plan_layout(options, dev.size()));
    std::optional<std::uint64_t> state = options.seed;
    Ctx c{options, l, l.g, 0, {}};
    // Times: the option, else SOURCE_DATE_EPOCH (reproducible builds), else now.
    const std::int64_t now = source_date_epoch().value_or(std::time(nullptr));
    c.now = options.time ? *options.time
                         : static_cast<std::uint32_t>(std::clamp<std::int64_t>(now, 0, 0x7FFFFFFF));
    l.g.uuid = options.uuid ? *options.uuid : make_uuid(state);
    c.hash_seed = options.hash_seed ? *options.hash_seed : make_uuid(state);
    l.g.csum_seed = crc32c_update(~std::uint32_t{0}, std::as_bytes(std::span(l.g.uuid)));
    fill_groups(c);
    const Geometry& g = l.g;

    Writer w(dev, g);
    Bytes gdt = make_descriptors(c);
    for (std::uint32_t i = 0; i < g.group_count; ++i) {
        auto [bb, ib] = make_bitmaps(c, i, gdt);
        UKFS_TRY(w.block(l.groups[i].block_bitmap, bb));
        UKFS_TRY(w.block(l.groups[i].inode_bitmap, ib));
        UKFS_TRY(w.zero(l.groups[i].inode_table, g.inode_table_blocks));
    }
    seal_descriptors(c, gdt);

    // The reserved inodes zeroed (with checksums), inode 1 with the creation time.
    for (std::uint32_t ino = 1; ino < g.first_ino; ++ino) {
        Bytes raw(g.inode_size);
        if (ino == 1) {
            Inode in{};
            in.i_atime.set(c.now);
            in.i_ctime.set(c.now);
            in.i_mtime.set(c.now);
            std::memcpy(raw.data(), &in, good_old_inode_size);
        }
        UKFS_TRY(write_inode(c, w, ino, std::move(raw)));
    }
    UKFS_TRY(write_directories(c, w));
    Bytes jnl_iblock(i_block_bytes);
    if (g.has_compat(compat_has_journal))
        jnl_iblock = UKFS_TRY(write_journal(c, w));

    // The superblock and descriptors of every group that has them, group 0 last.
    std::uint64_t copies = 0;
    for (std::uint32_t i = 0; i < g.group_count; ++i)
        copies += g.group_has_super(i) ? 1 : 0;
    const std::uint64_t kbytes =
        (w.bytes() + copies * (std::uint64_t{g.block_size} + gdt.size()) + 1023) / 1024;
    for (std::uint32_t k = g.group_count; k-- > 0;) {
        if (!g.group_has_super(k))
            continue;
        const std::uint64_t first = group_first(g, k);
        Superblock sb = make_superblock(c, kbytes, jnl_iblock);
        sb.s_block_group_nr.set(static_cast<std::uint16_t>(k));
        if (g.metadata_csum())
            sb.s_checksum.set(superblock_checksum(sb));
        Bytes block(g.block_size);
        // Group 0's superblock is at byte 1024 wherever block 0 ends; the bytes before it are
        // zeroed. A backup starts its group's first block.
        std::uint64_t at = first * g.block_size;
        std::size_t sb_at = 0;
        if (k == 0) {
            at = 0;
            block.resize(std::max<std::size_t>(g.block_size, 2048));
            sb_at = superblock_offset;
        }
        put(block, sb_at, sb);
        UKFS_TRY(w.at(at, block));
        UKFS_TRY(w.block(first + 1, gdt));
    }
    return dev.flush();
}

}  // namespace uk::ext2fs
