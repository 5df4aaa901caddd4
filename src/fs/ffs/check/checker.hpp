// The checker's state shared by its phases (private to src/fs/ffs/check). Names follow
// fsck_ffs: an inode's state (USTATE unallocated, FSTATE file, DSTATE directory not yet reached,
// DFOUND reached, FCLEAR/DCLEAR marked for clearing), its link count as found in directories,
// and a bitmap of the fragments in use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/check/super.hpp"

namespace uk::ffs::check {

enum class State : std::uint8_t { ustate, fstate, dstate, dfound, fclear, dclear };

struct InoInfo {
    State state = State::ustate;
    std::uint8_t type = 0;     // the d_type its mode implies
    bool zero_length = false;  // a directory of size 0 (DCLEAR for that reason)
    bool reported_dup = false;
    std::uint32_t refs = 0;  // directory entries naming it ('.' and '..' included)
};

struct DirInfo {
    std::uint64_t ino = 0;
    std::uint64_t parent = 0;  // the directory whose entry first named it (0: none yet)
    std::uint64_t dotdot = 0;  // what its '..' says (0: none)
    std::uint64_t size = 0;
    std::string name;  // the name it was found under, for messages
    bool missing_dotdot_told = false;
};

// A decoded inode: the fields the phases use, either format.
struct Inode {
    std::uint16_t mode = 0;
    std::int16_t nlink = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint32_t flags = 0;  // di_flags
    std::uint64_t size = 0;
    std::uint64_t blocks = 0;
    std::int64_t mtime = 0;
    std::uint32_t extsize = 0;
    std::uint64_t db[ndaddr] = {};
    std::uint64_t ib[niaddr] = {};
    std::uint64_t extb[nxaddr] = {};
    bool all_zero_pointers() const;
};

struct QuotaFile;  // quota2.cpp

// Usage counted in phase 1 for one quota type (fsck_ffs' uquot hash): blocks (DEV_BSIZE units)
// and inodes per id, and each hash bucket's ids in the order they were first met.
struct QuotaTally {
    std::unordered_map<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>> use;
    std::vector<std::vector<std::uint32_t>> buckets;
};

class Checker {
public:
    Checker(io::BlockDevice& dev, const CheckOptions& opts,
            std::function<void(std::string_view)> out)
        : m_raw(dev), m_opts(opts), m_out(std::move(out)) {}

    Result<CheckResult> run();

private:
    // Output in fsck_ffs' manner. `problem` is the one-line record of what was found;
    // `text` what fsck_ffs prints for it (with the inode dump), `question` the fix it offers.
    void say(std::string_view text);
    void problem(std::string line, std::string_view text, std::string_view question = {});
    std::string pinode(std::uint64_t ino);
    std::string pathname(std::uint64_t dir_ino) const;
    void fileerror(std::uint64_t dir, std::uint64_t ino, std::string_view name,
                   std::string_view msg, std::string_view question);

    Result<Inode> read_inode(std::uint64_t ino);
    Result<void> read_frags(std::uint64_t frag_no, std::uint64_t count, std::vector<std::byte>& b);

    // Bitmap of fragments in use.
    bool testbmap(std::uint64_t f) const { return (m_bmap[f >> 3] >> (f & 7)) & 1; }
    void setbmap(std::uint64_t f) { m_bmap[f >> 3] |= static_cast<std::uint8_t>(1u << (f & 7)); }
    // fsck_ffs' chkrange(): a run of `cnt` fragments at `blk` that is not data.
    bool chkrange(std::uint64_t blk, std::uint64_t cnt) const;

    // A file's blocks in logical order (fsck_ffs' ckinode): `fn(blk, nfrags, level, lbn)` for
    // each non-zero pointer, `level` 0 for data (lbn its logical block; UFS2 extended attribute
    // blocks come first with lbn from ext_lbn) and 1..3 for indirect blocks. `fn` answers
    // keepon, skip (do not read this indirect block) or stop (end the walk).
    enum Walk { keepon, skip, stop };
    static constexpr std::uint64_t ext_lbn = ~std::uint64_t{0} >> 1;
    using BlockFn = std::function<Result<Walk>(std::uint64_t blk, std::uint32_t nfrags, int level,
                                               std::uint64_t lbn)>;
    Result<void> walk_blocks(std::uint64_t ino, const Inode& di, bool check_truncated,
                             const BlockFn& fn);
    Result<bool> walk_indirect(std::uint64_t ino, std::uint64_t blk, int level, std::uint64_t lbn,
                               std::uint64_t remsize, bool check_truncated, const BlockFn& fn);

    // What every phase reads: the device, or with FS_DOWAPBL the log replayed over it.
    io::BlockDevice& dev() { return m_replayed ? *m_replayed : m_raw; }

    Result<bool> setup();
    // fsck_ffs' check_wapbl(): the superblock's journal fields and, with FS_DOWAPBL, the log
    // read for replay (`journaled` then set and dev() the replayed view). False when fsck_ffs
    // -n would have stopped ("CONTINUE? no").
    Result<bool> check_wapbl(bool& journaled);
    // fsck_ffs' is_journal_inode(): `ino` is the in-file-system log's inode the superblock
    // names, with SF_LOG set.
    bool is_journal_inode(std::uint64_t ino, const Inode& di) const;
    Result<void> pass1();
    Result<void> pass1_inode(std::uint64_t ino, const Inode& di);
    Result<void> pass1b();
    Result<bool> pass2();
    Result<void> pass2_dir(DirInfo& dir);
    void pass2_entry(DirInfo& dir, std::uint64_t entryno, std::uint64_t ino, std::uint8_t type,
                     std::string_view name);
    void pass3();
    void linkup_refused(std::uint64_t ino, std::string_view kind);
    Result<void> pass4();
    Result<void> pass5();

    // NetBSD quota2 (quota2.cpp): the setup test of the superblock's quota fields, phase 1's
    // usage count, and phase 6 (the quota files' headers, lists and recorded usage).
    std::uint32_t fs_flags() const;
    bool is_quota_inode(std::uint64_t ino) const;
    bool quota_setup();  // false: fsck_ffs -n stops here ("CONTINUE? no")
    void quota_count(std::uint64_t ino, const Inode& di, std::uint64_t blocks);
    Result<void> pass6();
    Result<bool> quota_check_inode(int type, QuotaFile& qf);
    Result<void> quota_check_usage(QuotaFile& qf);

    io::BlockDevice& m_raw;
    std::shared_ptr<io::BlockDevice> m_replayed;
    CheckOptions m_opts;
    std::function<void(std::string_view)> m_out;
    CheckResult m_result;
    Geometry m_g;

    std::vector<std::uint8_t> m_bmap;
    std::vector<InoInfo> m_ino;
    std::vector<DirInfo> m_dirs;
    std::unordered_map<std::uint64_t, std::size_t> m_dir_index;
    std::vector<std::uint64_t> m_dups;  // fragments claimed twice (each once)
    std::vector<std::uint8_t> m_dupmap;
    std::uint64_t m_n_files = 0;
    std::uint64_t m_n_blks = 0;
    std::uint64_t m_lastino = 0;
    bool m_abort = false;  // fsck_ffs -n would have exited here (a "CONTINUE? no")
    std::vector<std::uint32_t> m_inosused_limit;  // per cg: inodes looked at (cg_initediblk)
    bool m_quota = false;          // FS_DOQUOTA2 with the quota2 magic: phase 1 counts usage
    std::uint32_t m_q2_shift = 0;  // the hash size fsck_ffs expects for this block size
    QuotaTally m_tally[2];         // user, group
};

}  // namespace uk::ffs::check
