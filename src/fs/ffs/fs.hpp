// The mounted FFS: the validated Geometry, the buffer cache (one cache block per fragment) and
// the byte and pointer readers and writers every other part uses. Private to the driver, except
// Geometry (superblock.hpp), which the checker and newfs share.
//
// Writing: a read-write mount is refused unless the file system is clean and uses nothing we do
// not write correctly (check_writable). The mount then clears FS_ISCLEAN in the primary
// superblock and flushes it before any other write; unmount writes the cylinder groups, the
// summary area and the superblock's totals, and sets FS_ISCLEAN again last. A crash in between
// leaves a file system marked unclean, which fsck checks in full. sync() writes everything but
// leaves the file system marked unclean (it is still mounted).
//
// Cylinder groups are kept in memory once read (alloc.cpp): their maps and counts change there
// and reach the cache at sync and unmount.
//
// Locking: the VFS calls in here with the mount's lock held (vfs/vnode.hpp). Only the exclusive
// operations change anything here (allocation, counts, the superblock), so the (shared)
// operations run concurrently without a lock of their own; the buffer cache locks internally.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "fs/ffs/superblock.hpp"
#include "io/cache/buffer_cache.hpp"
#include "vfs/registry.hpp"
#include "vfs/vnode.hpp"

namespace uk::ffs {

using vfs::InodeNo;
using vfs::VType;

// The driver's mount function (Driver::mount).
Result<std::unique_ptr<vfs::FileSystem>> mount_ffs(const vfs::MountRequest& req);

// Why a read-write mount of this superblock is refused (EROFS naming the reason), or nothing.
Result<void> check_writable(const Geometry& g, const Superblock& sb);

class FfsFs final : public vfs::FileSystem {
public:
    FfsFs(const Geometry& geometry, const Superblock& sb, std::unique_ptr<io::BufferCache> cache,
          bool read_only);

    InodeNo root() const override { return root_ino; }
    Result<std::unique_ptr<vfs::Vnode>> load(InodeNo ino) override;
    Result<void> reclaim(vfs::Vnode& node) override;
    Result<vfs::StatFs> statfs() override;
    Result<void> sync() override;
    Result<void> unmount() override;
    bool read_only() const override { return m_read_only; }
    void set_caller_root(bool root) override { m_caller_root = root; }

    const Geometry& geometry() const { return m_geometry; }
    io::BufferCache& cache() { return *m_cache; }

    // Bytes at byte `off` of the run of fragments starting at `frag` (already range-checked
    // by the caller with Geometry::check_frags).
    Result<void> read_bytes(std::uint64_t frag, std::uint64_t off, std::span<std::byte> dst);
    // The same for writing, through the cache (whole fragments are not read first).
    Result<void> write_bytes(std::uint64_t frag, std::uint64_t off, std::span<const std::byte> src);
    // Zero `count` fragments from `frag` (newly allocated).
    Result<void> zero_frags(std::uint64_t frag, std::uint64_t count);
    // Pointer `index` of the indirect block at fragment `block`; `what` names it. The block is
    // range-checked here; the pointer returned is not (0 is a hole).
    Result<std::uint64_t> read_ptr(std::uint64_t block, std::uint32_t index,
                                   const std::string& what);
    Result<void> write_ptr(std::uint64_t block, std::uint32_t index, std::uint64_t value);

    // Recount the totals statfs reports from every cylinder group's own counts (cg_cs): a
    // superblock copy carries the totals of the day it was written, as fsck_ffs -b knows.
    Result<void> count_from_groups();

    // Read-write mounts only (alloc.cpp). Clear FS_ISCLEAN and write the superblock through.
    Result<void> begin_writing();
    // A free inode for a new node: a directory in the group dir_pref chooses, anything else in
    // its parent's group, or the next with room. The inode block is zeroed first when a UFS2
    // group has not initialised it yet.
    Result<std::uint32_t> alloc_inode(std::uint32_t parent, bool is_dir);
    Result<void> free_inode(std::uint32_t ino, bool is_dir);
    // `count` fragments (1 to frag; frag: a whole block) near fragment `pref` (0: none), in
    // pref's group if it has room, else in another. ENOSPC when none is free, or when only the
    // reserve (fs_minfree) is left and the caller is not root (ffs_alloc).
    Result<std::uint64_t> alloc_frags(std::uint64_t pref, std::uint32_t count);
    // Grow the run at `addr` from `have` to `want` fragments in place, if the fragments after it
    // in its block are free. False when they are not; ENOSPC as alloc_frags.
    Result<bool> extend_frags(std::uint64_t addr, std::uint32_t have, std::uint32_t want);
    Result<void> free_frags(std::uint64_t addr, std::uint32_t count);
    // The first data fragment of the group holding inode `ino`: where its data starts.
    std::uint64_t inode_pref(std::uint32_t ino) const;
    // Where a new section of a big file starts: the first group from `start` on (wrapping) with
    // at least the average of free blocks (ffs_blkpref); 0 when none has.
    std::uint64_t section_pref(std::uint32_t start) const;
    std::uint32_t next_generation() { return ++m_generation; }
    // The mount's clock: every time a write stamps as "now", and the generation numbers' start.
    void set_clock(const vfs::Clock& clock) {
        m_clock = clock;
        m_generation = clock.start(m_generation);
    }
    timespec now() const { return m_clock.now(); }

private:
    struct Cg {
        std::vector<std::byte> bytes;  // fs_cgsize bytes, header and maps
        bool dirty = false;
    };
    Result<Cg*> cg(std::uint32_t c);
    // ffs_dirpref: the group for a new directory in `parent`. In the root, the group with the
    // fewest directories among those with at least the average of free inodes and blocks
    // (top-level directories spread); elsewhere the first group from the parent's that has
    // room and has not taken too many directories in a row (subdirectories stay near).
    std::uint32_t dir_pref(std::uint32_t parent) const;
    Result<void> store_super(bool clean);
    // ENOSPC when a non-root caller would allocate from the reserve (ffs_alloc's freespace()).
    Result<void> check_reserve() const;
    Result<void> write_back();
    Result<std::uint64_t> alloc_in_cg(std::uint32_t c, std::uint64_t pref, std::uint32_t count);
    void cs_add(std::uint32_t c, Cg& g, int ndir, std::int64_t nbfree, std::int64_t nifree,
                std::int64_t nffree);
    Result<void> change_frags(std::uint32_t c, Cg& g, std::uint32_t first, std::uint32_t count,
                              bool make_free);

    Geometry m_geometry;
    Superblock m_sb;  // the primary as read, written back with new totals and flags
    std::unique_ptr<io::BufferCache> m_cache;
    bool m_read_only;
    bool m_writing = false;     // begin_writing() done: unmount marks the file system clean
    bool m_caller_root = true;  // the mount's credentials are root's: the reserve is open
    std::uint32_t m_contigsumsize = 0;
    std::uint32_t m_generation = 0;
    vfs::Clock m_clock;
    std::vector<std::unique_ptr<Cg>> m_cgs;  // loaded on first use
    std::vector<Csum> m_csum;                // the summary area (fs_csaddr), one per group
    // NetBSD's fs_contigdirs: per group, directories made in a row without a file between
    // them (kept in memory only, as the kernel does).
    std::vector<std::uint8_t> m_contigdirs;
};

}  // namespace uk::ffs
