// JBD2 journal recovery for ext3/ext4: read the internal journal of a file system that needs
// recovery (incompat needs_recovery) and work out what its committed transactions change, as
// the kernel's and e2fsck's recovery do (scan, revoke, replay). Then either write that out (a
// read-write mount) or show it over the unchanged device (a read-only mount). Private to the
// driver. Facts: kernel Documentation/filesystems/ext4/journal.rst, include/linux/jbd2.h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "fs/ext2fs/superblock.hpp"
#include "io/block_device.hpp"

namespace uk::ext2fs {

class Ext2Fs;

// What recovery would write: the final content of every file system block the committed
// transactions log (revoked blocks left out), and the reset of the journal.
struct JournalReplay {
    std::map<std::uint64_t, std::vector<std::byte>> blocks;
    bool empty_journal = false;       // s_start was 0: nothing to replay or reset
    std::uint64_t super_block = 0;    // the file system block holding the journal superblock
    std::uint32_t next_sequence = 0;  // s_sequence of the reset journal
    std::uint32_t transactions = 0;   // committed transactions found
};

// The three passes over the journal in inode `journal_ino` of `fs` (which only reads). EIO
// naming the structure for a corrupt journal, EINVAL for journal features we do not know. A
// transaction whose commit block fails its checksum ends the log and is not replayed, as the
// kernel does; so does one whose descriptor or revoke block fails its checksum (the kernel
// then fails the recovery when a valid commit follows). A logged block failing its tag
// checksum is an error. The v1 whole-transaction crc32 (compat checksum) is not verified.
Result<JournalReplay> read_journal(Ext2Fs& fs, std::uint32_t journal_ino);

// Reset journal superblock `b` (its block, as read): an empty log whose next transaction is
// `next_sequence`, and its checksum updated when the journal has one.
void reset_journal_super(std::span<std::byte> b, std::uint32_t next_sequence);

// Recover at mount. `dev` holds a file system that needs recovery, `sb` and `g` its superblock
// as read. Read-write: the replayed blocks are written, then the journal reset, then
// needs_recovery cleared, each reaching the device before the next; returns `dev`. Read-only:
// nothing is written; returns a read-only device that shows `dev` as recovery would leave it.
Result<std::shared_ptr<io::BlockDevice>> recover_journal(std::shared_ptr<io::BlockDevice> dev,
                                                         const Superblock& sb, const Geometry& g,
                                                         bool read_only);

}  // namespace uk::ext2fs
