// The mounted FFS: the validated Geometry, the buffer cache (one cache block per fragment) and
// the byte and pointer readers every other part uses. Private to the driver, except Geometry
// (superblock.hpp), which the checker and newfs share.
//
// Read-only in this version: a read-write mount is refused with EROFS at mount.
//
// Locking: the VFS calls in here with the mount's lock held (vfs/vnode.hpp). Nothing here
// changes after mount, and the buffer cache locks internally, so the (shared) operations run
// concurrently without a lock of their own.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

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

class FfsFs final : public vfs::FileSystem {
public:
    FfsFs(const Geometry& geometry, std::unique_ptr<io::BufferCache> cache)
        : m_geometry(geometry), m_cache(std::move(cache)) {}

    InodeNo root() const override { return root_ino; }
    Result<std::unique_ptr<vfs::Vnode>> load(InodeNo ino) override;
    Result<void> reclaim(vfs::Vnode& node) override;
    Result<vfs::StatFs> statfs() override;
    Result<void> sync() override { return {}; }
    Result<void> unmount() override { return {}; }
    bool read_only() const override { return true; }

    const Geometry& geometry() const { return m_geometry; }

    // Bytes at byte `off` of the run of fragments starting at `frag` (already range-checked
    // by the caller with Geometry::check_frags).
    Result<void> read_bytes(std::uint64_t frag, std::uint64_t off, std::span<std::byte> dst);
    // Pointer `index` of the indirect block at fragment `block`; `what` names it. The block is
    // range-checked here; the pointer returned is not (0 is a hole).
    Result<std::uint64_t> read_ptr(std::uint64_t block, std::uint32_t index,
                                   const std::string& what);

private:
    Geometry m_geometry;
    std::unique_ptr<io::BufferCache> m_cache;
};

}  // namespace uk::ffs
