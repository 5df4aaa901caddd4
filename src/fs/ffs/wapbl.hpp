// NetBSD's WAPBL log, read-only: the log a file system with FS_DOWAPBL set may still hold
// committed transactions in, and a device that shows the file system as if the log had been
// replayed (what NetBSD's kernel does in memory for a read-only mount, and fsck_ffs -n through
// wapbl_replay_read). Nothing here writes.
//
// Format (sys/sys/wapbl_replay.h, sys/kern/vfs_wapbl.c, sys/ufs/ffs/ffs_wapbl.c):
// - the superblock's fs_journallocs give the log's start and length in units of its block size
//   (fs_journallocs[2], the device's sector size), either after fs_size (END_PARTITION) or in
//   blocks of a file inside the file system (IN_FILESYSTEM, inode fs_journallocs[3]);
// - the log's first two blocks are commit headers ("WABL"); the one with the larger
//   wc_generation is current and gives the circular area (wc_circ_off, wc_circ_size, bytes from
//   the log's start) and the records' span in it, from wc_tail to wc_head;
// - records are WAPBL_WC_BLOCKS (a list of disk addresses in DEV_BSIZE units and lengths,
//   followed by the blocks' contents), WAPBL_WC_REVOCATIONS (blocks not to replay) and
//   WAPBL_WC_INODES (inodes to clean up, not used for reading). A later copy of a block wins.
//
// Byte order: the kernel writes the headers and records in the byte order of the machine that
// wrote them, whatever the file system's (an FFS_EI file system keeps a host-order log); the
// logged blocks are file system blocks as they are on disk. The log's order is therefore taken
// from the first commit header's magic, either way round. The checksum field is always zero
// (NetBSD writes and checks none).
//
// Everything read is bounded: the log inside the device, offsets inside the circular area,
// record lengths and counts inside a log block, the walk no longer than the circular area.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/endian.hpp"
#include "base/result.hpp"
#include "fs/ffs/format.hpp"
#include "io/block_device.hpp"

namespace uk::ffs {

inline constexpr std::uint8_t ufs_wapbl_version = 1;          // fs_journal_version
inline constexpr std::uint32_t wapbl_flags_create_log = 0x1;  // fs_journal_flags
inline constexpr std::uint32_t wapbl_flags_clear_log = 0x2;
// fs_journallocs slots (the same for both locations; INO only IN_FILESYSTEM).
inline constexpr std::size_t wapbl_loc_addr = 0;
inline constexpr std::size_t wapbl_loc_count = 1;
inline constexpr std::size_t wapbl_loc_blksz = 2;
inline constexpr std::size_t wapbl_loc_ino = 3;

inline constexpr std::uint32_t wapbl_wc_header = 0x5741424c;  // "WABL"
inline constexpr std::uint32_t wapbl_wc_inodes = wapbl_wc_header + 1;
inline constexpr std::uint32_t wapbl_wc_revocations = wapbl_wc_header + 2;
inline constexpr std::uint32_t wapbl_wc_blocks = wapbl_wc_header + 3;

// The log, read and indexed: which file system blocks it holds the latest copy of.
class WapblLog {
public:
    // Read the log the superblock `sb` (in byte order `o`) names on `dev`. EIO naming the WAPBL
    // structure when anything in it is out of bounds or inconsistent; EINVAL when the
    // superblock's journal fields are not a log NetBSD would replay.
    static Result<std::shared_ptr<const WapblLog>> read(io::BlockDevice& dev, const Superblock& sb,
                                                        const Order& o);

    // The unit blocks are logged in (1 << wc_fs_dev_bshift bytes).
    std::uint32_t block_size() const { return m_fs_blk; }
    // How many blocks the log holds (after revocations).
    std::size_t blocks() const { return m_map.size(); }
    // Inodes listed by the last WAPBL_WC_INODES records (allocated but unlinked): number, mode.
    const std::vector<std::pair<std::uint32_t, std::uint32_t>>& inodes() const { return m_inodes; }

    // Read `dst` at byte `offset` of the file system as replayed: logged blocks from `dev`'s log
    // area, the rest from `dev` itself.
    Result<void> read_replayed(io::BlockDevice& dev, std::uint64_t offset,
                               std::span<std::byte> dst) const;

private:
    WapblLog() = default;
    // Read `dst` from the circular area at circular offset `off` (wrapping at its end).
    Result<void> circ_read(io::BlockDevice& dev, std::uint64_t off, std::span<std::byte> dst) const;
    std::uint64_t circ_advance(std::uint64_t off, std::uint64_t len) const;
    Result<void> process(io::BlockDevice& dev, std::uint64_t head, std::uint64_t tail);

    Order m_order;                // the log's byte order
    std::uint64_t m_start = 0;    // byte offset of the log on the device
    std::uint32_t m_log_blk = 0;  // 1 << wc_log_dev_bshift
    std::uint32_t m_fs_blk = 0;   // 1 << wc_fs_dev_bshift
    std::uint64_t m_circ_off = 0, m_circ_size = 0;
    std::uint64_t m_dev_size = 0;
    std::map<std::uint64_t, std::uint64_t> m_map;  // file system block (m_fs_blk units) -> offset
    std::vector<std::pair<std::uint32_t, std::uint32_t>> m_inodes;
};

// A read-only device showing `base` with `log` replayed over it. Writes are EROFS.
class WapblOverlay final : public io::ReadOnlyView {
public:
    WapblOverlay(std::shared_ptr<io::BlockDevice> base, std::shared_ptr<const WapblLog> log)
        : ReadOnlyView(std::move(base), "ffs: the WAPBL replayed view is read-only"),
          m_log(std::move(log)) {}

    Result<void> read_at(std::uint64_t offset, std::span<std::byte> dst) override;

    const WapblLog& log() const { return *m_log; }

private:
    std::shared_ptr<const WapblLog> m_log;
};

}  // namespace uk::ffs
