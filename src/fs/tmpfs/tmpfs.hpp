// The tmpfs file system: mount arguments, the node table, the size and node limits. Private to
// the driver. Facts from NetBSD sys/fs/tmpfs/tmpfs_vfsops.c (tmpfs_mount, tmpfs_statvfs).
//
// Locking: the VFS calls in here with the mount's lock held (vfs/vnode.hpp). The node table
// has its own mutex anyway, because load() runs from many threads under the shared lock and a
// table is cheap to guard; the page and node counters are atomics for the same reason.
// Nodes are shared between the table and the vnodes that the VFS holds, so a vnode never
// points at freed memory, whatever order the VFS drops things in.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>

#include "base/result.hpp"
#include "fs/tmpfs/node.hpp"
#include "vfs/registry.hpp"
#include "vfs/vnode.hpp"

namespace uk::tmpfs {

// What struct tmpfs_args asks for, with NetBSD's defaults applied.
struct MountOptions {
    std::uint64_t pages_max = PageAccount::unlimited;
    std::uint64_t nodes_max = INT32_MAX;
    std::uint32_t root_uid = 0;
    std::uint32_t root_gid = 0;
    std::uint32_t root_mode = 01777;
    bool read_only = false;
    bool noatime = false;
};

// Validate a mount request: EINVAL for a wrong ta_version, a short structure or VNOVAL owners.
Result<MountOptions> parse_mount_request(const vfs::MountRequest& req);

// The driver's mount function (Driver::mount).
Result<std::unique_ptr<vfs::FileSystem>> mount_tmpfs(const vfs::MountRequest& req);

class Tmpfs final : public vfs::FileSystem {
public:
    explicit Tmpfs(const MountOptions& options);

    InodeNo root() const override { return root_ino; }
    Result<std::unique_ptr<vfs::Vnode>> load(InodeNo ino) override;
    Result<void> reclaim(vfs::Vnode& node) override;
    Result<vfs::StatFs> statfs() override;
    Result<void> sync() override { return {}; }
    Result<void> unmount() override;
    bool read_only() const override { return m_options.read_only; }

    // For the vnode operations.

    // A new node, entered in the table, counted against the node limit (ENOSPC past it).
    Result<std::shared_ptr<Node>> new_node(const vfs::NewNode& spec, timespec now);
    // Undo new_node() for a node that never got a directory entry.
    void drop_new_node(const Node& node);
    // The node of `ino`, or null.
    std::shared_ptr<Node> find(InodeNo ino) const;
    PageAccount& pages() { return m_pages; }
    // EROFS on a read-only mount.
    Result<void> check_writable() const;
    // Set the access time of `node` after a read, unless the mount says noatime.
    void accessed(Node& node) const;

private:
    MountOptions m_options;
    PageAccount m_pages;
    std::uint64_t m_reported_pages;  // statfs total when there is no size limit
    std::atomic<std::uint64_t> m_node_count{0};

    mutable std::mutex m_table_lock;  // guards m_nodes, m_next_ino and m_random
    std::unordered_map<InodeNo, std::shared_ptr<Node>> m_nodes;
    InodeNo m_next_ino = root_ino;
    std::mt19937_64 m_random;
};

}  // namespace uk::tmpfs
