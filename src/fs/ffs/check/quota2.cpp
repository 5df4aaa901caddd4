// NetBSD's in-file-system quotas (quota2) as fsck_ffs -n checks them: the superblock's quota
// fields at setup, each file's usage counted by owner and group in phase 1, and phase 6 (the
// quota files' headers, their hash chains and free list, and the usage each entry records).
// Facts: NetBSD sys/ufs/ufs/quota2.h, sbin/fsck_ffs (quota2.c, pass6.c, setup.c, utilities.c,
// pass1.c, pass4.c); the code is ours.
//
// A quota file is a regular file named by no directory (fs_quotafile[type] holds its inode). Its
// first block starts with a header (magic, type, hash shift and size, a default entry, the head
// of the free list) and a hash table of 2^shift list heads; the rest of that block and every
// later full block are 96-byte entries. A list link is the byte offset of the next entry in the
// file (0 ends it). Every field is in the file system's byte order.
//
// Where fsck_ffs trusts the file, this reader does not: a link that is not the offset of an entry
// slot in a full block of the file is reported as "CAN'T READ QUOTA BLOCK" (fsck_ffs' words for a
// block it cannot read) and ends the check of that quota type; a list that comes back to an entry
// it already passed is reported once as "DUPLICATE QUOTA ENTRY" and not followed further (fsck_ffs
// -n would walk such a loop forever).
#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <unordered_set>

#include <fmt/format.h>

#include "fs/ffs/check/checker.hpp"

namespace uk::ffs::check {

namespace {

constexpr std::uint32_t q2_head_magic = 0xb746915e;  // Q2_HEAD_MAGIC
constexpr std::uint32_t q2h_fixed_size = 112;        // struct quota2_header before q2h_entries
constexpr std::uint32_t q2h_free_off = 104;          // q2h_free
constexpr std::uint32_t q2e_size = 96;               // struct quota2_entry
constexpr std::uint32_t q2v_size = 40;               // struct quota2_val
constexpr std::uint32_t q2v_cur_off = 16;            // q2v_cur in a quota2_val
constexpr std::uint32_t q2e_next_off = 80;           // q2e_next
constexpr std::uint32_t q2e_uid_off = 88;            // q2e_uid
constexpr int ql_block = 0, ql_file = 1;             // QL_BLOCK, QL_FILE
constexpr const char* capstr[2] = {"USER", "GROUP"};

// FS_Q2_DO_TYPE(type)
constexpr std::uint8_t q2_do_type(int type) {
    return static_cast<std::uint8_t>(1u << type);
}

struct Entry {
    std::uint64_t next = 0;
    std::uint32_t uid = 0;
    std::uint64_t cur[2] = {};  // blocks, files
};

}  // namespace

// One quota file as phase 6 reads it.
struct QuotaFile {
    int type = 0;
    std::uint64_t ino = 0;
    std::uint32_t bsize = 0;
    std::uint32_t header = 0;   // header and hash table: where block 0's entries start
    std::uint64_t nblocks = 0;  // full blocks of the file (fsck_ffs' nq2map)
    std::map<std::uint64_t, std::uint64_t> where;  // logical block -> fragment address
    std::vector<std::byte> block0;
    // Entry slots not yet found in a list, per logical block (fsck_ffs' quotamap).
    std::map<std::uint64_t, std::vector<std::uint8_t>> unseen;

    std::uint32_t slots(std::uint64_t lbn) const {
        return (bsize - (lbn == 0 ? header : 0)) / q2e_size;
    }
    // The slot an offset names, or nullopt when it names none.
    std::optional<std::pair<std::uint64_t, std::uint32_t>> slot(std::uint64_t off) const {
        const std::uint64_t lbn = off / bsize, boff = off % bsize;
        const std::uint32_t base = lbn == 0 ? header : 0;
        if (lbn >= nblocks || where.count(lbn) == 0 || boff < base || (boff - base) % q2e_size != 0)
            return std::nullopt;
        const auto idx = static_cast<std::uint32_t>((boff - base) / q2e_size);
        if (idx >= slots(lbn))
            return std::nullopt;
        return std::pair{lbn, idx};
    }
};

std::uint32_t Checker::fs_flags() const {
    // UFS1 without FS_FLAGS_UPDATED keeps its flags in the 8-bit fs_old_flags.
    if (m_g.ufs2 || m_g.flags_updated)
        return m_g.order.u32(m_g.sb.fs_flags);
    return m_g.sb.fs_old_flags;
}

bool Checker::is_quota_inode(std::uint64_t ino) const {
    if ((fs_flags() & fs_doquota2) == 0 || m_g.order.u32(m_g.sb.fs_quota_magic) != q2_head_magic)
        return false;
    return ino == m_g.order.u64(m_g.sb.fs_quotafile[0]) ||
           ino == m_g.order.u64(m_g.sb.fs_quotafile[1]);
}

bool Checker::quota_setup() {
    if ((fs_flags() & fs_doquota2) == 0)
        return true;
    // The hash size fsck_ffs expects: the largest power of two (2^8 to 2^15) whose table of
    // 8-byte heads fits, with the header, in half a block.
    for (m_q2_shift = 8; m_q2_shift < 15; ++m_q2_shift)
        if ((std::uint64_t{8} << (m_q2_shift + 1)) + q2h_fixed_size > m_g.bsize)
            break;
    for (QuotaTally& t : m_tally)
        t.buckets.assign(std::size_t{1} << m_q2_shift, {});
    if (m_g.order.u32(m_g.sb.fs_quota_magic) != q2_head_magic) {
        problem("Invalid quota magic number", "Invalid quota magic number\n", "CONTINUE");
        return false;
    }
    bool ok = true;
    for (int type = 0; type < 2; ++type) {
        if ((m_g.sb.fs_quota_flags & q2_do_type(type)) != 0 &&
            m_g.order.u64(m_g.sb.fs_quotafile[type]) == 0) {
            const std::string line = fmt::format("no {} quota inode", type == 0 ? "user" : "group");
            m_result.exit_code = exit_check_failed;
            m_result.problems.push_back(line);
            say(line + "\n");
            ok = false;
        }
    }
    if (!ok) {
        say("\nCONTINUE? no\n\n");
        return false;
    }
    m_quota = true;
    return true;
}

void Checker::quota_count(std::uint64_t ino, const Inode& di, std::uint64_t blocks) {
    // Not counted, as fsck_ffs's update_uquot: snapshots, the WAPBL log, the quota files.
    if (!m_quota || ino < root_ino || is_quota_inode(ino) || is_journal_inode(ino, di) ||
        (di.flags & sf_snapshot) != 0)
        return;
    const std::uint32_t mask = (1u << m_q2_shift) - 1;
    const std::uint32_t ids[2] = {di.uid, di.gid};
    for (int t = 0; t < 2; ++t) {
        auto [it, fresh] = m_tally[t].use.try_emplace(ids[t], 0, 0);
        if (fresh)
            m_tally[t].buckets[ids[t] & mask].push_back(ids[t]);
        it->second.first += blocks;
        it->second.second += 1;
    }
}

Result<void> Checker::pass6() {
    const std::uint8_t qflags = m_g.sb.fs_quota_flags;
    for (int type = 0; type < 2; ++type)
        if ((qflags & q2_do_type(type)) == 0 && m_g.order.u64(m_g.sb.fs_quotafile[type]) != 0)
            problem(fmt::format("CLEAR {} QUOTA INODE", capstr[type]), "",
                    fmt::format("CLEAR {} QUOTA INODE", capstr[type]));
    if ((qflags & (q2_do_type(0) | q2_do_type(1))) == 0)
        problem("CLEAR SUPERBLOCK QUOTA FLAG", "", "CLEAR SUPERBLOCK QUOTA FLAG");
    QuotaFile files[2];
    bool ok[2] = {false, false};
    for (int type = 0; type < 2; ++type) {
        if ((qflags & q2_do_type(type)) == 0)
            continue;
        files[type].type = type;
        ok[type] = UKFS_TRY(quota_check_inode(type, files[type]));
        if (m_abort)
            return {};
    }
    for (int type = 0; type < 2; ++type)
        if (ok[type])
            UKFS_TRY(quota_check_usage(files[type]));
    return {};
}

namespace {

Result<std::optional<Entry>> read_entry(io::BlockDevice& dev, const Geometry& g, const QuotaFile& q,
                                        std::uint64_t off) {
    const auto s = q.slot(off);
    if (!s)
        return std::optional<Entry>{};
    std::byte raw[q2e_size];
    const std::uint64_t at = g.bytes(q.where.at(s->first)) + off % q.bsize;
    UKFS_TRY(dev.read_at(at, std::span<std::byte>(raw, q2e_size)));
    auto u64 = [&](std::uint32_t o) {
        Raw64 r;
        std::memcpy(&r, raw + o, 8);
        return g.order.u64(r);
    };
    Raw32 uid;
    std::memcpy(&uid, raw + q2e_uid_off, 4);
    Entry e;
    e.next = u64(q2e_next_off);
    e.uid = g.order.u32(uid);
    e.cur[ql_block] = u64(ql_block * q2v_size + q2v_cur_off);
    e.cur[ql_file] = u64(ql_file * q2v_size + q2v_cur_off);
    return std::optional<Entry>{e};
}

std::uint64_t head_at(const Geometry& g, const QuotaFile& q, std::uint32_t off) {
    Raw64 r;
    std::memcpy(&r, q.block0.data() + off, 8);
    return g.order.u64(r);
}

}  // namespace

// fsck_ffs' quota2_check_inode() with every question answered "no": true when the header and
// every link could be read (the usage is then compared).
Result<bool> Checker::quota_check_inode(int type, QuotaFile& q) {
    const char* cap = capstr[type];
    q.ino = m_g.order.u64(m_g.sb.fs_quotafile[type]);
    if (q.ino == 0) {  // not reached with -n: setup stopped at "no user quota inode"
        problem(fmt::format("NO {} QUOTA INODE", cap), fmt::format("NO {} QUOTA INODE", cap),
                "CREATE");
        return false;
    }
    if (q.ino >= m_g.maxino()) {  // fsck_ffs' inoinfo() exits
        problem(fmt::format("inoinfo: inumber {} out of range", q.ino),
                fmt::format("inoinfo: inumber {} out of range", q.ino));
        m_abort = true;
        return false;
    }
    switch (m_ino[q.ino].state) {
    case State::fstate: break;
    case State::dstate:
    case State::dfound:
        problem(fmt::format("{} QUOTA INODE {} IS A DIRECTORY", cap, q.ino),
                fmt::format("{} QUOTA INODE {} IS A DIRECTORY", cap, q.ino), "CLEAR");
        return false;
    default:
        problem(fmt::format("UNALLOCATED {} QUOTA INODE {}", cap, q.ino),
                fmt::format("UNALLOCATED {} QUOTA INODE {}", cap, q.ino), "CLEAR");
        return false;
    }
    const Inode di = UKFS_TRY(read_inode(q.ino));
    if ((di.mode & ifmt) != ifreg) {
        problem(fmt::format("WRONG TYPE {} for {} QUOTA INODE {}", di.mode & ifmt, cap, q.ino),
                fmt::format("WRONG TYPE {} for {} QUOTA INODE {}", di.mode & ifmt, cap, q.ino),
                "CLEAR");
        return false;
    }
    q.bsize = m_g.bsize;
    // A file holds no more blocks than the file system: a larger size is holes.
    q.nblocks = std::min<std::uint64_t>(di.size / q.bsize, m_g.size / m_g.frag + 1);
    UKFS_TRY(walk_blocks(
        q.ino, di, false,
        [&](std::uint64_t blk, std::uint32_t nfrags, int level, std::uint64_t lbn) -> Result<Walk> {
            if (level == 0 && lbn < q.nblocks && nfrags == m_g.frag && !chkrange(blk, nfrags))
                q.where[lbn] = blk;
            return keepon;
        }));
    // The header block cannot be read: fsck_ffs frees the inode and offers a new one.
    if (q.nblocks == 0 || q.where.count(0) == 0) {
        problem(fmt::format("NO {} QUOTA INODE", cap), fmt::format("NO {} QUOTA INODE", cap),
                "CREATE");
        return false;
    }
    UKFS_TRY(read_frags(q.where.at(0), m_g.frag, q.block0));
    const std::uint32_t hash_size = 1u << m_q2_shift;
    q.header = q2h_fixed_size + 8 * hash_size;
    Raw32 magic;
    Raw16 hsize;
    std::memcpy(&magic, q.block0.data(), 4);
    std::memcpy(&hsize, q.block0.data() + 6, 2);
    if (m_g.order.u32(magic) != q2_head_magic || std::to_integer<int>(q.block0[4]) != type ||
        std::to_integer<std::uint32_t>(q.block0[5]) != m_q2_shift ||
        m_g.order.u16(hsize) != hash_size) {
        problem(fmt::format("CORRUPTED {} QUOTA INODE {}", cap, q.ino),
                fmt::format("CORRUPTED {} QUOTA INODE {}", cap, q.ino), "CLEAR");
        return false;
    }

    // Every entry must be in exactly one list: the free list or the hash chain of its id.
    for (const auto& [lbn, blk] : q.where)
        q.unseen[lbn].assign(q.slots(lbn), 1);
    const std::uint32_t mask = hash_size - 1;
    auto walk = [&](std::uint64_t off, std::int64_t hash) -> Result<bool> {
        std::unordered_set<std::uint64_t> passed;
        while (off != 0) {
            const auto e = UKFS_TRY(read_entry(dev(), m_g, q, off));
            if (!e) {
                problem("CAN'T READ QUOTA BLOCK", "CAN'T READ QUOTA BLOCK");
                return false;
            }
            const auto [lbn, idx] = *q.slot(off);
            std::uint8_t& bit = q.unseen.at(lbn)[idx];
            if (bit == 0 || !passed.insert(off).second) {
                problem("DUPLICATE QUOTA ENTRY", "DUPLICATE QUOTA ENTRY", "FIX");
                break;
            }
            bit = 0;
            if (hash >= 0 && (e->uid & mask) != hash) {
                // Left in the list (answer "no") and also counted as in none, as fsck_ffs does.
                const std::string m = fmt::format("QUOTA uid {} IN WRONG HASH LIST {}",
                                                  static_cast<std::int32_t>(e->uid), hash);
                problem(m, m, "FIX");
                bit = 1;
            }
            off = e->next;
        }
        return true;
    };
    if (!UKFS_TRY(walk(head_at(m_g, q, q2h_free_off), -1)))
        return false;
    for (std::uint32_t i = 0; i < hash_size; ++i)
        if (!UKFS_TRY(walk(head_at(m_g, q, q2h_fixed_size + 8 * i), i)))
            return false;
    // One report a block at most: fsck_ffs leaves a block's loop at the first "FIX? no". A hole
    // holds entries no list can reach.
    for (std::uint64_t lbn = 0; lbn < q.nblocks; ++lbn) {
        auto it = q.unseen.find(lbn);
        if (it == q.unseen.end() ||
            std::find(it->second.begin(), it->second.end(), 1) != it->second.end())
            problem("QUOTA ENTRY NOT IN LIST", "QUOTA ENTRY NOT IN LIST", "FIX");
    }
    return true;
}

// fsck_ffs' quota2_check_usage(): each entry of the hash chains against the usage counted in
// phase 1, then the ids that own files and have no entry (the first one only: fsck_ffs stops
// at its "ALLOC? no").
Result<void> Checker::quota_check_usage(QuotaFile& q) {
    const char* cap = capstr[q.type];
    QuotaTally& tally = m_tally[q.type];
    const std::uint32_t hash_size = 1u << m_q2_shift;
    std::unordered_set<std::uint64_t> passed;
    for (std::uint32_t i = 0; i < hash_size; ++i) {
        std::uint64_t off = head_at(m_g, q, q2h_fixed_size + 8 * i);
        while (off != 0 && passed.insert(off).second) {
            const auto e = UKFS_TRY(read_entry(dev(), m_g, q, off));
            if (!e)
                break;
            std::uint64_t want[2] = {0, 0};
            if (auto it = tally.use.find(e->uid); it != tally.use.end()) {
                want[0] = it->second.first;
                want[1] = it->second.second;
                tally.use.erase(it);
            }
            if (e->cur[ql_block] != want[0] || e->cur[ql_file] != want[1]) {
                const std::string m =
                    fmt::format("{} QUOTA MISMATCH FOR ID {}: {}/{} SHOULD BE {}/{}", cap,
                                static_cast<std::int32_t>(e->uid), e->cur[ql_block],
                                e->cur[ql_file], want[0], want[1]);
                problem(m, m, "FIX");
            }
            off = e->next;
        }
    }
    for (const auto& bucket : tally.buckets) {
        // fsck_ffs' lists take new ids at their head: the last one met comes first.
        for (auto id = bucket.rbegin(); id != bucket.rend(); ++id) {
            auto it = tally.use.find(*id);
            if (it == tally.use.end())
                continue;
            const std::string m =
                fmt::format("{} QUOTA MISMATCH FOR ID {}: 0/0 SHOULD BE {}/{}", cap,
                            static_cast<std::int32_t>(*id), it->second.first, it->second.second);
            problem(m, m, "ALLOC");
            return {};
        }
    }
    return {};
}

}  // namespace uk::ffs::check
