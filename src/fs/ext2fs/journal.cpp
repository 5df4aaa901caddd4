// Reading a JBD2 journal: the journal superblock, then the kernel's three recovery passes.
// Facts: kernel Documentation/filesystems/ext4/journal.rst and include/linux/jbd2.h (every
// journal field is big-endian).
//
// The log starts at journal block s_start with transaction s_sequence and runs, wrapping from
// s_maxlen back to s_first, while each block found carries the magic and the expected sequence.
// A transaction is a descriptor block (tags naming file system blocks, each followed in the log
// by that block's new content), revoke blocks, and a commit block. Bounds: every pass walks at
// most s_maxlen - s_first blocks, every tag and revoke record lies inside its block, every
// block number replayed lies inside the file system.
#include "fs/ext2fs/journal.hpp"

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "base/crc32c.hpp"
#include "fs/ext2fs/bmap.hpp"
#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/inode.hpp"

namespace uk::ext2fs {

namespace {

constexpr std::uint32_t jbd2_magic = 0xC03B3998;

enum : std::uint32_t {
    type_descriptor = 1,
    type_commit = 2,
    type_super_v1 = 3,
    type_super_v2 = 4,
    type_revoke = 5,
};

constexpr std::uint32_t incompat_revoke = 0x1;
constexpr std::uint32_t incompat_64bit = 0x2;
constexpr std::uint32_t incompat_async_commit = 0x4;
constexpr std::uint32_t incompat_csum_v2 = 0x8;
constexpr std::uint32_t incompat_csum_v3 = 0x10;
constexpr std::uint32_t incompat_fast_commit = 0x20;
constexpr std::uint32_t incompat_known =
    incompat_revoke | incompat_64bit | incompat_async_commit | incompat_csum_v2 | incompat_csum_v3;

constexpr std::uint32_t tag_escape = 0x1;
constexpr std::uint32_t tag_same_uuid = 0x2;
constexpr std::uint32_t tag_last = 0x8;

// Journal superblock offsets.
constexpr std::size_t jsb_blocksize = 0x0C, jsb_maxlen = 0x10, jsb_first = 0x14,
                      jsb_sequence = 0x18, jsb_start = 0x1C, jsb_incompat = 0x28, jsb_uuid = 0x30,
                      jsb_checksum_type = 0x50, jsb_checksum = 0xFC;
constexpr std::size_t jsb_size = 1024;  // sizeof(journal_superblock_t): what its crc covers
constexpr std::uint8_t checksum_type_crc32c = 4;
constexpr std::size_t header_size = 12;         // magic, block type, sequence
constexpr std::size_t commit_checksum_at = 16;  // h_chksum[0]

std::uint32_t u32_at(std::span<const std::byte> b, std::size_t off) {
    be32 v;
    std::memcpy(&v, b.data() + off, sizeof v);  // callers keep off + 4 within b
    return v.get();
}

std::uint16_t u16_at(std::span<const std::byte> b, std::size_t off) {
    be16 v;
    std::memcpy(&v, b.data() + off, sizeof v);
    return v.get();
}

void put_u32(std::span<std::byte> b, std::size_t off, std::uint32_t value) {
    be32 v;
    v.set(value);
    std::memcpy(b.data() + off, &v, sizeof v);
}

// Transaction ids wrap: a is after b when the signed difference is positive (jbd2's tid_gt).
bool tid_after(std::uint32_t a, std::uint32_t b) {
    return static_cast<std::int32_t>(a - b) > 0;
}

// crc32c of `block` with the 4 bytes at `hole` read as zeros.
std::uint32_t crc_with_hole(std::uint32_t seed, std::span<const std::byte> block,
                            std::size_t hole) {
    constexpr std::byte zeros[4]{};
    std::uint32_t crc = crc32c_update(seed, block.first(hole));
    crc = crc32c_update(crc, zeros);
    return crc32c_update(crc, block.subspan(hole + 4));
}

class Journal {
public:
    Journal(Ext2Fs& fs, InodeData inode) : m_fs(fs), m_inode(std::move(inode)) {}

    Result<void> load_super(JournalReplay& out);
    Result<JournalReplay> recover(JournalReplay out);

private:
    using BlockFn = std::function<Result<void>(std::uint32_t jblock, std::uint32_t seq,
                                               std::uint32_t type, std::span<const std::byte>)>;
    Result<io::BufRef> read(std::uint32_t jblock);
    std::uint32_t advance(std::uint32_t jblock, std::uint64_t n) const {
        const std::uint64_t span = m_maxlen - m_first;
        return static_cast<std::uint32_t>(m_first + (jblock - m_first + n) % span);
    }
    bool csum() const { return (m_incompat & (incompat_csum_v2 | incompat_csum_v3)) != 0; }
    std::size_t tail_size() const { return csum() ? 4 : 0; }
    std::string where(std::uint32_t jblock) const {
        return fmt::format("ext2fs: journal (inode {}) block {}", m_inode.ino, jblock);
    }
    // Tags of descriptor block `b`: fn(tag index, file system block, flags, tag offset).
    Result<std::uint32_t> for_each_tag(
        std::span<const std::byte> b,
        const std::function<Result<void>(std::uint32_t, std::uint64_t, std::uint32_t, std::size_t)>&
            fn) const;
    bool tail_ok(std::span<const std::byte> b) const {
        const std::size_t at = b.size() - 4;
        return crc_with_hole(m_seed, b, at) == u32_at(b, at);
    }
    // Walk the log from s_start through the transactions before `end_seq` (scan: until the
    // log ends, end_seq set to the first transaction not committed).
    Result<void> walk(bool scan, std::uint32_t& end_seq, const BlockFn& fn);
    Result<void> revoke_records(std::uint32_t jblock, std::uint32_t seq,
                                std::span<const std::byte> b);
    Result<void> replay(std::uint32_t jblock, std::uint32_t seq, std::span<const std::byte> b,
                        JournalReplay& out);

    Ext2Fs& m_fs;
    InodeData m_inode;
    std::uint32_t m_block_size = 0;
    std::uint32_t m_first = 0, m_maxlen = 0, m_sequence = 0, m_start = 0;
    std::uint32_t m_incompat = 0;
    std::uint32_t m_seed = 0;
    std::size_t m_tag_bytes = 0;
    std::map<std::uint64_t, std::uint32_t> m_revoked;  // block -> latest revoking transaction
};

Result<io::BufRef> Journal::read(std::uint32_t jblock) {
    const Run run = UKFS_TRY(map_block(m_fs, m_inode, jblock));
    if (run.hole())
        return Error::corrupt(where(jblock), "is a hole in the journal inode");
    return m_fs.block(run.pblock, where(jblock));
}

Result<void> Journal::load_super(JournalReplay& out) {
    const Geometry& g = m_fs.geometry();
    m_block_size = g.block_size;
    const std::uint64_t inode_blocks = m_inode.size / m_block_size;
    if (inode_blocks < 2)
        return Error::corrupt(where(0), "the journal inode is smaller than two blocks");
    const Run run = UKFS_TRY(map_block(m_fs, m_inode, 0));
    if (run.hole())
        return Error::corrupt(where(0), "the journal superblock is a hole");
    out.super_block = run.pblock;
    io::BufRef buf = UKFS_TRY(m_fs.block(run.pblock, where(0)));
    const std::span<const std::byte> b = buf.data();
    const std::string what = "ext2fs: journal superblock";
    if (u32_at(b, 0) != jbd2_magic)
        return Error::corrupt(what, fmt::format("bad magic {:#010x}", u32_at(b, 0)));
    const std::uint32_t type = u32_at(b, 4);
    if (type != type_super_v1 && type != type_super_v2)
        return Error::corrupt(what, fmt::format("block type {} is not 3 or 4", type));
    if (u32_at(b, jsb_blocksize) != m_block_size)
        return Error::corrupt(what, fmt::format("s_blocksize {} differs from the file system's {}",
                                                u32_at(b, jsb_blocksize), m_block_size));
    m_maxlen = u32_at(b, jsb_maxlen);
    m_first = u32_at(b, jsb_first);
    m_sequence = u32_at(b, jsb_sequence);
    m_start = u32_at(b, jsb_start);
    if (m_maxlen > inode_blocks || m_maxlen < 2)
        return Error::corrupt(what, fmt::format("s_maxlen {} is not from 2 to the inode's {} "
                                                "blocks",
                                                m_maxlen, inode_blocks));
    // Each journal block is a block of the file system: a longer journal maps some twice,
    // which only a hostile image does (and would let the passes revisit blocks).
    if (m_maxlen > g.blocks_count)
        return Error::corrupt(what, fmt::format("s_maxlen {} is more than the file system's {} "
                                                "blocks",
                                                m_maxlen, g.blocks_count));
    if (m_first == 0 || m_first >= m_maxlen)
        return Error::corrupt(
            what, fmt::format("s_first {} is not from 1 to s_maxlen {}", m_first, m_maxlen));
    if (type == type_super_v2) {
        m_incompat = u32_at(b, jsb_incompat);
        if ((m_incompat & incompat_fast_commit) != 0)
            return Error::sys(EINVAL, "ext2fs: the journal uses fast commits, which the driver "
                                      "does not replay: run e2fsck");
        if ((m_incompat & ~incompat_known) != 0)
            return Error::sys(EINVAL, fmt::format("ext2fs: unknown journal incompat features "
                                                  "{:#x}: run e2fsck",
                                                  m_incompat & ~incompat_known));
        if ((m_incompat & incompat_csum_v2) != 0 && (m_incompat & incompat_csum_v3) != 0)
            return Error::corrupt(what, "both checksum v2 and v3 are set");
    }
    if (csum()) {
        if (std::to_integer<std::uint8_t>(b[jsb_checksum_type]) != checksum_type_crc32c)
            return Error::corrupt(what, "s_checksum_type is not crc32c");
        const std::uint32_t want =
            crc_with_hole(~std::uint32_t{0}, b.first(jsb_size), jsb_checksum);
        if (want != u32_at(b, jsb_checksum))
            return Error::corrupt(what, fmt::format("checksum mismatch (stored {:#010x}, "
                                                    "computed {:#010x})",
                                                    u32_at(b, jsb_checksum), want));
        m_seed = crc32c_update(~std::uint32_t{0}, b.subspan(jsb_uuid, 16));
    }
    if ((m_incompat & incompat_csum_v3) != 0)
        m_tag_bytes = 16;
    else
        m_tag_bytes = ((m_incompat & incompat_64bit) != 0 ? 12 : 8) +
                      ((m_incompat & incompat_csum_v2) != 0 ? 2 : 0);
    if (m_start == 0) {
        out.empty_journal = true;
        return {};
    }
    if (m_start < m_first || m_start >= m_maxlen)
        return Error::corrupt(what, fmt::format("s_start {} is not from s_first {} to s_maxlen {}",
                                                m_start, m_first, m_maxlen));
    return {};
}

Result<std::uint32_t> Journal::for_each_tag(
    std::span<const std::byte> b,
    const std::function<Result<void>(std::uint32_t, std::uint64_t, std::uint32_t, std::size_t)>& fn)
    const {
    const std::size_t end = b.size() - tail_size();
    const bool is64 = (m_incompat & incompat_64bit) != 0;
    const bool v3 = (m_incompat & incompat_csum_v3) != 0;
    std::uint32_t n = 0;
    for (std::size_t at = header_size; at + m_tag_bytes <= end;) {
        const std::uint32_t flags = v3 ? u32_at(b, at + 4) : u16_at(b, at + 6);
        std::uint64_t block = u32_at(b, at);
        if (is64)
            block |= std::uint64_t{u32_at(b, at + 8)} << 32;
        if (fn)
            UKFS_TRY(fn(n, block, flags, at));
        ++n;
        at += m_tag_bytes;
        if ((flags & tag_same_uuid) == 0)
            at += 16;
        if ((flags & tag_last) != 0)
            break;
    }
    return n;
}

Result<void> Journal::walk(bool scan, std::uint32_t& end_seq, const BlockFn& fn) {
    const std::uint64_t limit = m_maxlen - m_first;
    std::uint64_t walked = 0;
    std::uint32_t jblock = m_start;
    std::uint32_t seq = m_sequence;
    while (scan || seq != end_seq) {
        if (walked >= limit) {
            if (scan)
                break;  // a log as long as the journal: nothing newer can follow
            return Error::corrupt(where(jblock), "the log runs past the journal's length");
        }
        io::BufRef buf = UKFS_TRY(read(jblock));
        const std::span<const std::byte> b = buf.data();
        const bool ours = u32_at(b, 0) == jbd2_magic && u32_at(b, 8) == seq;
        const std::uint32_t type = u32_at(b, 4);
        if (!ours || (type != type_descriptor && type != type_commit && type != type_revoke)) {
            if (scan)
                break;
            return Error::corrupt(where(jblock), "the log changed between recovery passes");
        }
        std::uint64_t used = 1;
        if (type == type_descriptor) {
            if (scan && csum() && !tail_ok(b))
                break;  // a torn descriptor: this transaction never committed
            used += UKFS_TRY(for_each_tag(b, {}));
        } else if (type == type_commit) {
            if (scan && csum() &&
                crc_with_hole(m_seed, b, commit_checksum_at) != u32_at(b, commit_checksum_at))
                break;  // the commit failed: this transaction and what follows are ignored
        } else if (scan && csum() && !tail_ok(b)) {
            break;  // a torn revoke block
        }
        if (fn)
            UKFS_TRY(fn(jblock, seq, type, b));
        if (type == type_commit)
            ++seq;
        walked += used;
        jblock = advance(jblock, used);
    }
    if (scan)
        end_seq = seq;
    return {};
}

Result<void> Journal::revoke_records(std::uint32_t jblock, std::uint32_t seq,
                                     std::span<const std::byte> b) {
    const std::uint32_t count = u32_at(b, header_size);
    if (count < 16 || count > b.size() - tail_size())
        return Error::corrupt(where(jblock), fmt::format("revoke block r_count {} is not from "
                                                         "16 to {}",
                                                         count, b.size() - tail_size()));
    const bool is64 = (m_incompat & incompat_64bit) != 0;
    const std::size_t rec = is64 ? 8 : 4;
    for (std::size_t at = 16; at + rec <= count; at += rec) {
        std::uint64_t block = u32_at(b, at);
        if (is64)
            block = (block << 32) | u32_at(b, at + 4);
        if (block >= m_fs.geometry().blocks_count)
            continue;  // nothing there to protect; keeps the table bounded by the file system
        auto [it, fresh] = m_revoked.try_emplace(block, seq);
        if (!fresh && tid_after(seq, it->second))
            it->second = seq;
    }
    return {};
}

Result<void> Journal::replay(std::uint32_t jblock, std::uint32_t seq, std::span<const std::byte> b,
                             JournalReplay& out) {
    const Geometry& g = m_fs.geometry();
    const bool v3 = (m_incompat & incompat_csum_v3) != 0;
    const bool v2 = (m_incompat & incompat_csum_v2) != 0;
    auto each = [&](std::uint32_t i, std::uint64_t block, std::uint32_t flags,
                    std::size_t at) -> Result<void> {
        const std::uint32_t data_at = advance(jblock, std::uint64_t{i} + 1);
        if (block >= g.blocks_count)
            return Error::corrupt(where(jblock),
                                  fmt::format("descriptor tag {} names block {}, outside the "
                                              "file system ({} blocks)",
                                              i, block, g.blocks_count));
        if (auto r = m_revoked.find(block); r != m_revoked.end() && !tid_after(seq, r->second))
            return {};  // revoked by this transaction or a later one
        io::BufRef data = UKFS_TRY(read(data_at));
        const std::span<const std::byte> d = data.data();
        if (v2 || v3) {
            be32 seq_be;
            seq_be.set(seq);
            std::uint32_t crc = crc32c_update(m_seed, std::as_bytes(std::span(&seq_be, 1)));
            crc = crc32c_update(crc, d);
            const bool ok = v3 ? u32_at(b, at + 12) == crc
                               : u16_at(b, at + 4) == static_cast<std::uint16_t>(crc);
            if (!ok)  // the kernel skips such a block, then fails the recovery
                return Error::corrupt(where(data_at),
                                      fmt::format("the logged copy of block {} fails its "
                                                  "checksum (transaction {})",
                                                  block, seq));
        }
        std::vector<std::byte>& slot = out.blocks[block];
        slot.assign(d.begin(), d.end());
        if ((flags & tag_escape) != 0)
            put_u32(slot, 0, jbd2_magic);
        return {};
    };
    UKFS_TRY(for_each_tag(b, each));
    return {};
}

Result<JournalReplay> Journal::recover(JournalReplay out) {
    std::uint32_t end_seq = 0;
    UKFS_TRY(walk(true, end_seq, {}));
    out.transactions = end_seq - m_sequence;
    UKFS_TRY(walk(false, end_seq,
                  [&](std::uint32_t jblock, std::uint32_t seq, std::uint32_t type,
                      std::span<const std::byte> b) -> Result<void> {
                      if (type == type_revoke)
                          return revoke_records(jblock, seq, b);
                      return {};
                  }));
    UKFS_TRY(walk(false, end_seq,
                  [&](std::uint32_t jblock, std::uint32_t seq, std::uint32_t type,
                      std::span<const std::byte> b) -> Result<void> {
                      if (type == type_descriptor)
                          return replay(jblock, seq, b, out);
                      return {};
                  }));
    // As the kernel and e2fsck leave it: the next transaction id after the one that ended the
    // log, so that no stale block can pass for the new log's first.
    out.next_sequence = end_seq + 1;
    return out;
}

}  // namespace

void reset_journal_super(std::span<std::byte> b, std::uint32_t next_sequence) {
    put_u32(b, jsb_sequence, next_sequence);
    put_u32(b, jsb_start, 0);
    if (u32_at(b, 4) != type_super_v2 ||
        (u32_at(b, jsb_incompat) & (incompat_csum_v2 | incompat_csum_v3)) == 0)
        return;
    put_u32(b, jsb_checksum, crc_with_hole(~std::uint32_t{0}, b.first(jsb_size), jsb_checksum));
}

Result<JournalReplay> read_journal(Ext2Fs& fs, std::uint32_t journal_ino) {
    const Geometry& g = fs.geometry();
    if (journal_ino == 0 || journal_ino > g.inodes_count)
        return Error::corrupt("ext2fs: superblock",
                              fmt::format("s_journal_inum {} is not an inode", journal_ino));
    InodeData inode = UKFS_TRY(load_inode(fs, journal_ino, true));
    if (inode.type != VType::reg || inode.inline_data())
        return Error::corrupt(inode.what(), "the journal inode is not a regular file with blocks");
    Journal journal(fs, std::move(inode));
    JournalReplay out;
    UKFS_TRY(journal.load_super(out));
    if (out.empty_journal)
        return out;
    return journal.recover(std::move(out));
}

}  // namespace uk::ext2fs
