// The mounted ext2/3/4 file system: the validated Geometry, the group table, the buffer cache,
// and the helpers the vnode operations share. Private to the driver.
//
// Locking: the VFS calls in here with the mount's lock held (vfs/vnode.hpp). Only the
// exclusive operations change anything here (allocation, counts, the superblock), so the
// (shared) operations run concurrently without a lock of their own; the buffer cache locks
// internally.
//
// Writing: a read-write mount clears s_state's valid bit and writes the superblock before any
// other write, and sets it again at unmount after everything else is on the device. A crash in
// between leaves a file system that e2fsck checks in full, never one that claims to be clean.
// Writes bypass the journal, which is empty by then.
//
// The journal: a file system that needs recovery (incompat needs_recovery) has its journal
// replayed at a read-write mount before anything else; a read-only mount reads through a view
// of the recovered state and writes nothing (journal.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
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
    std::uint32_t used_dirs = 0;
    std::uint32_t block_bitmap_csum = 0;  // metadata_csum: crc32c of the bitmaps as stored
    std::uint32_t inode_bitmap_csum = 0;
};

// The driver's mount function (Driver::mount).
Result<std::unique_ptr<vfs::FileSystem>> mount_ext2fs(const vfs::MountRequest& req);

// A run of blocks the allocator handed out.
struct Extent64 {
    std::uint64_t start = 0;
    std::uint64_t count = 0;
};

class Ext2Fs final : public vfs::FileSystem {
public:
    Ext2Fs(const Geometry& geometry, const Superblock& sb, std::unique_ptr<io::BufferCache> cache,
           std::vector<GroupInfo> groups, bool read_only);

    InodeNo root() const override { return root_ino; }
    Result<std::unique_ptr<vfs::Vnode>> load(InodeNo ino) override;
    Result<void> reclaim(vfs::Vnode& node) override;
    Result<vfs::StatFs> statfs() override;
    Result<std::vector<vfs::InfoField>> info() override;  // info.cpp
    Result<void> sync() override;
    Result<void> unmount() override;
    bool read_only() const override { return m_read_only; }

    const Geometry& geometry() const { return m_geometry; }
    const GroupInfo& group(std::uint32_t g) const { return m_groups[g]; }

    // Read-write mounts only (alloc.cpp). Clear the valid bit and write the superblock through.
    Result<void> begin_writing();
    // Up to `max` free blocks, consecutive, at or after `goal` if possible (else anywhere);
    // ENOSPC when none is free.
    Result<Extent64> alloc_blocks(std::uint64_t goal, std::uint64_t max);
    Result<void> free_blocks(std::uint64_t start, std::uint64_t count);
    // A free inode for a new node: a directory goes to a group with more free inodes and
    // blocks than average, anything else near its parent's group, as ext4's allocator does.
    Result<std::uint32_t> alloc_inode(std::uint32_t parent, bool is_dir);
    Result<void> free_inode(std::uint32_t ino, bool is_dir);
    // The first block of the group that holds inode `ino`: the allocation goal for its data.
    std::uint64_t inode_goal(std::uint32_t ino) const;
    // Turn on compat feature `f` in the superblock (ext_attr, when the first attribute is
    // written, as the kernel does).
    Result<void> add_compat_feature(std::uint32_t f);
    // A new inode generation number.
    std::uint32_t next_generation() { return m_generation++; }
    // The mount's clock: every time a write stamps as "now", and the generation numbers' start.
    void set_clock(const vfs::Clock& clock) {
        m_clock = clock;
        m_generation = clock.start(m_generation);
    }
    timespec now() const { return m_clock.now(); }
    bool needs_recovery() const { return m_geometry.has_incompat(incompat_recover); }
    // Free blocks and inodes summed over the groups (the superblock's totals lag in ext4).
    std::pair<std::uint64_t, std::uint64_t> free_totals() const;
    // Block `block`, after the range check; `what` names the structure for messages.
    Result<io::BufRef> block(std::uint64_t block, const std::string& what);
    io::BufferCache& cache() { return *m_cache; }
    // Whether the checksum of metadata block `block` was verified already (the device does not
    // change under a read-only mount, so once is enough), and recording that it was.
    bool checksum_verified(std::uint64_t block) const;
    void set_checksum_verified(std::uint64_t block);

private:
    Result<io::BufRef> bitmap(std::uint32_t group, bool inodes);
    Result<void> init_block_bitmap(std::uint32_t group, std::span<std::byte> bits);
    Result<void> store_group(std::uint32_t group);
    void update_bitmap_csum(std::uint32_t group, bool inodes, std::span<const std::byte> bits);
    Result<Extent64> alloc_in_group(std::uint32_t group, std::uint64_t from, std::uint64_t max);
    Result<void> store_super(bool clean);

    Geometry m_geometry;
    Superblock m_sb;  // the superblock as read, kept to write it back with new counts
    std::unique_ptr<io::BufferCache> m_cache;
    std::vector<GroupInfo> m_groups;
    bool m_read_only;
    bool m_writing = false;  // begin_writing() done: unmount marks the file system clean
    std::uint32_t m_generation;
    vfs::Clock m_clock;
    mutable std::mutex m_verified_lock;  // guards m_verified (shared operations add to it)
    std::unordered_set<std::uint64_t> m_verified;
};

// group.cpp: read and validate the group descriptor table (checksums, table locations).
Result<std::vector<GroupInfo>> load_groups(const Geometry& g, io::BufferCache& cache);
// Where group `group`'s descriptor lives: the block and the byte offset in it.
std::pair<std::uint64_t, std::uint32_t> descriptor_location(const Geometry& g, std::uint32_t group);
// Write `info` into the raw descriptor `desc` (desc_size bytes) and set its checksum.
void encode_group(const Geometry& g, std::uint32_t group, const GroupInfo& info,
                  std::span<std::byte> desc);

}  // namespace uk::ext2fs
