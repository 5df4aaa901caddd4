// The mounted ext2/3/4 file system: the validated Geometry, the group table, the buffer cache,
// and the helpers the vnode operations share. Private to the driver.
//
// Locking: the VFS calls in here with the mount's lock held (vfs/vnode.hpp). After mount
// nothing here changes (the driver is read-only so far), so the (shared) operations run
// concurrently without a lock of their own; the buffer cache locks internally.
//
// The journal: a file system that needs recovery (incompat needs_recovery) is read as it is on
// disk; the journal is not replayed yet, so changes still only in the journal are not seen.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/result.hpp"
#include "fs/ext2fs/superblock.hpp"
#include "io/cache/buffer_cache.hpp"
#include "vfs/registry.hpp"
#include "vfs/vnode.hpp"

namespace uk::ext2fs {

using vfs::InodeNo;
using vfs::VType;

// One group's descriptor, validated at mount.
struct GroupInfo {
    std::uint64_t block_bitmap = 0;
    std::uint64_t inode_bitmap = 0;
    std::uint64_t inode_table = 0;
    std::uint16_t flags = 0;
    std::uint32_t itable_unused = 0;  // meaningful with gdt_csum or metadata_csum
    std::uint32_t free_inodes = 0;
    std::uint64_t free_blocks = 0;
};

// The driver's mount function (Driver::mount).
Result<std::unique_ptr<vfs::FileSystem>> mount_ext2fs(const vfs::MountRequest& req);

class Ext2Fs final : public vfs::FileSystem {
public:
    Ext2Fs(const Geometry& geometry, std::unique_ptr<io::BufferCache> cache,
           std::vector<GroupInfo> groups, bool needs_recovery);

    InodeNo root() const override { return root_ino; }
    Result<std::unique_ptr<vfs::Vnode>> load(InodeNo ino) override;
    Result<void> reclaim(vfs::Vnode&) override { return {}; }
    Result<vfs::StatFs> statfs() override;
    Result<void> sync() override { return {}; }
    Result<void> unmount() override { return {}; }
    bool read_only() const override { return true; }

    const Geometry& geometry() const { return m_geometry; }
    const GroupInfo& group(std::uint32_t g) const { return m_groups[g]; }
    bool needs_recovery() const { return m_needs_recovery; }
    // Block `block`, after the range check; `what` names the structure for messages.
    Result<io::BufRef> block(std::uint64_t block, const std::string& what);
    io::BufferCache& cache() { return *m_cache; }
    // Whether the checksum of metadata block `block` was verified already (the device does not
    // change under a read-only mount, so once is enough), and recording that it was.
    bool checksum_verified(std::uint64_t block) const;
    void set_checksum_verified(std::uint64_t block);

private:
    Geometry m_geometry;
    std::unique_ptr<io::BufferCache> m_cache;
    std::vector<GroupInfo> m_groups;
    bool m_needs_recovery;
    mutable std::mutex m_verified_lock;  // guards m_verified (shared operations add to it)
    std::unordered_set<std::uint64_t> m_verified;
};

// group.cpp: read and validate the group descriptor table (checksums, table locations).
Result<std::vector<GroupInfo>> load_groups(const Geometry& g, io::BufferCache& cache);

}  // namespace uk::ext2fs
