// The mounted FAT file system: the validated Geometry, the FAT, the buffer cache, the mount
// options, and the map between directory-entry locations and inode numbers. Private to the
// driver.
//
// Inode numbers. FAT keeps no inodes: a node is its directory entry. As NetBSD's msdosfs does,
// a node's number is the device byte offset of its short (8.3) entry; the root, which has no
// entry, is `root_ino`. A rename moves the entry, but the VFS keys its vnode cache and name
// cache on the number, so a renamed node must keep its number: the driver keeps two small maps
// of exceptions, location -> number for entries that carry a number other than their offset
// (a moved node, or a node created where a moved node's number would otherwise be reused) and
// number -> location for the reverse. A node that is unlinked but still open keeps its number
// reserved (number -> `dead_loc`) until the VFS reclaims it. The maps only grow with renames.
//
// Locking: the VFS calls in here with the mount's lock held (vfs/vnode.hpp). Changes happen
// under the exclusive lock only; the (shared) operations read the FAT and directories through
// the thread-safe cache, and the few driver fields they touch (the inode maps, a vnode's
// cluster list) have their own mutexes.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/result.hpp"
#include "fs/msdosfs/format.hpp"
#include "io/cache/buffer_cache.hpp"
#include "vfs/registry.hpp"
#include "vfs/vnode.hpp"

namespace uk::msdosfs {

using vfs::InodeNo;
using vfs::VType;

enum class FatType : std::uint8_t { fat12, fat16, fat32 };

inline constexpr InodeNo root_ino = 1;
inline constexpr std::uint64_t dead_loc = 0;

// Everything derived from the boot sector, validated once at mount.
struct Geometry {
    FatType type = FatType::fat12;
    std::uint32_t bytes_per_sector = 512;
    std::uint32_t log_sector = 9;
    std::uint32_t sectors_per_cluster = 1;
    std::uint32_t cluster_bytes = 512;
    std::uint32_t reserved_sectors = 1;
    std::uint32_t num_fats = 2;
    std::uint32_t fat_sectors = 0;  // per copy
    std::uint64_t total_sectors = 0;
    std::uint32_t root_entries = 0;      // FAT12/16: entries in the fixed root directory
    std::uint64_t root_dir_sector = 0;   // FAT12/16: its first sector
    std::uint32_t root_dir_sectors = 0;  // FAT12/16: its length
    std::uint64_t first_data_sector = 0;
    std::uint32_t cluster_count = 0;  // valid clusters: [2, cluster_count + 2)
    std::uint32_t root_cluster = 0;   // FAT32
    std::uint32_t fsinfo_sector = 0;  // FAT32; 0: none
    bool mirrored = true;             // every FAT copy is kept (BPB_ExtFlags bit 7 clear)
    std::uint32_t active_fat = 0;     // the copy read when not mirrored
    std::uint8_t media = 0xF8;
    std::uint32_t volume_id = 0;
    std::string label;  // the boot sector's volume label, trimmed

    bool valid_cluster(std::uint64_t c) const {
        return c >= first_cluster && c < std::uint64_t{cluster_count} + first_cluster;
    }
    std::uint32_t fat_bits() const {
        return type == FatType::fat12 ? 12 : type == FatType::fat16 ? 16 : 32;
    }
    std::uint32_t fat_mask() const {
        return type == FatType::fat12 ? 0xFFF : type == FatType::fat16 ? 0xFFFF : 0x0FFFFFFF;
    }
    std::uint32_t eoc() const { return fat_mask(); }              // what we write
    std::uint32_t eoc_min() const { return fat_mask() & ~7u; }    // >= this: end of chain
    std::uint32_t bad_cluster() const { return fat_mask() - 8; }  // 0xFF7...
    std::uint64_t cluster_sector(std::uint32_t c) const {
        return first_data_sector + std::uint64_t{c - first_cluster} * sectors_per_cluster;
    }
};

// Boot sector -> Geometry. EINVAL when it is not a FAT boot sector, EIO-free: every field is
// checked against the device size.
Result<Geometry> parse_boot_sector(std::span<const std::byte> sector, std::uint64_t device_size);
// 0 to 100: how sure we are that `dev` holds a FAT file system.
int detect_msdos(io::BlockDevice& dev);

// Mount options, from struct msdosfs_args or the defaults.
struct Options {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint32_t mask = 0755;
    std::uint32_t dirmask = 0755;
    int gmtoff = 0;          // seconds east of UTC that the on-disk times are in
    bool shortname = false;  // MSDOSFSMNT_SHORTNAME: make 8.3 names only
    bool nowin95 = false;    // MSDOSFSMNT_NOWIN95: ignore long names entirely
};

// One directory entry as read: the short entry, where it lies, and its name.
struct EntryInfo {
    DirEntryRaw raw{};
    std::uint32_t first_slot = 0;  // index of the first slot (long-name entries) in the dir
    std::uint32_t slot = 0;        // index of the short entry
    std::uint64_t loc = 0;         // device byte offset of the short entry
    std::string name;              // UTF-8: the long name, else the short one
    std::string short_name;        // "NAME.EXT" as displayed (case bits applied)
};

class MsdosNode;

class Msdosfs final : public vfs::FileSystem {
public:
    Msdosfs(const Geometry& g, std::unique_ptr<io::BufferCache> cache, const Options& o,
            bool read_only);

    InodeNo root() const override { return root_ino; }
    Result<std::unique_ptr<vfs::Vnode>> load(InodeNo ino) override;
    Result<void> reclaim(vfs::Vnode& node) override;
    Result<vfs::StatFs> statfs() override;
    Result<std::vector<vfs::InfoField>> info() override;  // info.cpp
    Result<void> sync() override;
    Result<void> unmount() override;
    bool read_only() const override { return m_read_only; }

    const Geometry& geometry() const { return m_geometry; }
    const Options& options() const { return m_options; }
    io::BufferCache& cache() { return *m_cache; }
    // Sector `s` after the range check; `what` names the structure for messages.
    Result<io::BufRef> sector(std::uint64_t s, std::string_view what);

    // fat.cpp: the FAT.
    Result<std::uint32_t> fat_get(std::uint32_t cluster);
    Result<void> fat_set(std::uint32_t cluster, std::uint32_t value);
    // The cluster chain from `first` (0: empty), checked: every link valid, no loop, no free
    // or bad cluster. At most `limit` clusters are followed (the rest is not needed).
    Result<std::vector<std::uint32_t>> chain(std::uint32_t first, std::string_view what,
                                             std::uint64_t limit = UINT64_MAX);
    // Allocate `count` clusters linked after `last` (0: a new chain); returns them.
    Result<std::vector<std::uint32_t>> allocate(std::uint32_t last, std::uint32_t count);
    // Free the chain from `first`.
    Result<void> free_chain(std::uint32_t first);
    Result<std::uint32_t> count_free();

    // Cross-links. A FAT entry has one successor, so two chains that share a cluster share
    // every cluster after it and end at the same one. Each chain loaded during the mount is
    // registered under its last cluster, and stays registered after its node is dropped, until
    // the chain is freed; a second owner for that cluster is a cross-link (EIO naming both
    // entries and the first shared cluster), and the chain is not registered. One record per
    // chain loaded, bounded by the entries the volume holds. `owner` is the node's number.
    Result<void> claim_chain(InodeNo owner, std::span<const std::uint32_t> chain,
                             std::string_view what);
    void unclaim_chain(InodeNo owner);
    // EIO when `links` ends where a cross-link was found: neither chain is used again.
    Result<void> check_crossed(std::span<const std::uint32_t> links, std::string_view what);
    // Cross-links found from the FAT alone, on a read-write mount, whether or not the other
    // chain's node is live: EIO when the first cluster of `links` is what some FAT entry
    // points at, or when the chain passes a cluster that two entries point at. Both chains
    // then end at the same cluster, which is marked crossed, so neither is used again.
    Result<void> check_links(std::span<const std::uint32_t> links, std::string_view what);

    // Inode numbers (see the header comment).
    InodeNo ino_for(std::uint64_t loc);
    std::optional<std::uint64_t> loc_of(InodeNo ino);
    // Give a node created at `loc` its number (a fresh one when `loc` is taken as a number).
    InodeNo assign_ino(std::uint64_t loc);
    void moved(InodeNo ino, std::uint64_t old_loc, std::uint64_t new_loc);
    void unlinked(InodeNo ino, std::uint64_t loc);

    // Times: DOS local date/time <-> Unix, with the mount's offset.
    timespec from_dos(std::uint16_t date, std::uint16_t time, std::uint8_t tenth) const;
    void to_dos(const timespec& t, std::uint16_t& date, std::uint16_t& time,
                std::uint8_t* tenth) const;

    Result<void> mark_dirty_bit();
    // The mount's clock: every time a write stamps as "now".
    void set_clock(const vfs::Clock& clock) { m_clock = clock; }
    timespec now() const { return m_clock.now(); }

private:
    Result<void> write_fsinfo();
    Result<void> set_clean_bit(bool clean);

    Geometry m_geometry;
    std::unique_ptr<io::BufferCache> m_cache;
    Options m_options;
    bool m_read_only;
    vfs::Clock m_clock;
    bool m_was_clean = true;  // FAT[1] said clean at mount
    bool m_dirty_marked = false;
    std::optional<std::uint32_t> m_free;  // exact free count once known
    std::uint32_t m_next_free = first_cluster;

    std::mutex m_ino_lock;  // guards the two maps and m_next_synthetic
    std::map<std::uint64_t, InodeNo> m_loc_to_ino;
    std::map<InodeNo, std::uint64_t> m_ino_to_loc;
    InodeNo m_next_synthetic = InodeNo{1} << 60;
    std::mutex m_free_lock;  // guards m_free for statfs under a shared lock

    struct Claim {
        InodeNo owner;
        std::uint32_t first;
    };
    std::mutex m_claim_lock;  // guards the claim maps and m_crossed
    std::atomic<bool> m_any_crossed = false;
    std::unordered_set<std::uint32_t> m_crossed;  // last clusters of cross-linked chains
    std::unordered_map<std::uint32_t, Claim> m_claim_by_end;  // last cluster -> its chain
    std::unordered_map<InodeNo, std::uint32_t> m_claim_of;    // owner -> last cluster

    // Read-write mounts: for each cluster, whether a FAT entry points at it (filled when the
    // free clusters are first counted, kept current by fat_set), and the clusters that more
    // than one entry points at. One bit per cluster; guarded by m_claim_lock.
    void note_link(std::uint32_t target);
    std::vector<bool> m_linked;
    std::unordered_set<std::uint32_t> m_joins;
};

Result<std::unique_ptr<vfs::FileSystem>> mount_msdos(const vfs::MountRequest& req);

}  // namespace uk::msdosfs
