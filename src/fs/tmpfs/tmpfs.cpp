// The tmpfs file system: mount arguments, the node table, limits and statfs.
// Facts from NetBSD sys/fs/tmpfs/tmpfs_vfsops.c (tmpfs_mount, tmpfs_statvfs) and
// fs/tmpfs/tmpfs_args.h.
#include "fs/tmpfs/tmpfs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <fmt/format.h>

#include "base/checked.hpp"
#include "base/time.hpp"
#include "fs/tmpfs/vnode_ops.hpp"

namespace uk::tmpfs {

namespace {

// NetBSD's VNOVAL: an owner that tmpfs_mount refuses.
constexpr std::uint32_t vnoval = UINT32_MAX;

// struct tmpfs_args -> MountOptions, as tmpfs_mount reads it: a ta_size_max under one page
// means "no limit", a ta_nodes_max of 3 or less means "3 + one node per KiB of the size
// limit", and both are capped so that the node count fits an int.
Result<MountOptions> parse_args(const tmpfs_args& args, MountOptions o) {
    if (args.ta_version != TMPFS_ARGS_VERSION)
        return Error::sys(EINVAL, fmt::format("tmpfs: ta_version is {}, expected {}",
                                              args.ta_version, TMPFS_ARGS_VERSION));
    if (args.ta_root_uid == vnoval || args.ta_root_gid == vnoval)
        return Error::sys(EINVAL, "tmpfs: the root's owner is VNOVAL");
    o.root_uid = args.ta_root_uid;
    o.root_gid = args.ta_root_gid;
    o.root_mode = args.ta_root_mode & 07777;

    std::uint64_t bytes_max = UINT64_MAX;
    if (args.ta_size_max >= static_cast<off_t>(page_size)) {
        bytes_max = static_cast<std::uint64_t>(args.ta_size_max);
        o.pages_max = ceil_div<std::uint64_t>(bytes_max, page_size);
    }
    const std::uint64_t nodes = args.ta_nodes_max <= 3
                                    ? 3 + bytes_max / 1024
                                    : static_cast<std::uint64_t>(args.ta_nodes_max);
    o.nodes_max = std::min<std::uint64_t>(nodes, INT32_MAX);
    return o;
}

// The statfs total of a mount without a size limit: the machine's memory, in our pages.
std::uint64_t physical_pages() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0)
        return 0;
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size) / page_size;
}

}  // namespace

Result<MountOptions> parse_mount_request(const vfs::MountRequest& req) {
    MountOptions o;
    o.read_only = req.read_only();
    o.noatime = (req.flags & vfs::mnt_noatime) != 0;
    if (req.args == nullptr)
        return o;  // root 0:0 mode 01777, no limits
    if (req.args_len < sizeof(tmpfs_args))
        return Error::sys(EINVAL, fmt::format("tmpfs: mount arguments are {} bytes, struct "
                                              "tmpfs_args needs {}",
                                              req.args_len, sizeof(tmpfs_args)));
    tmpfs_args args;
    std::memcpy(&args, req.args, sizeof args);
    return parse_args(args, o);
}

Result<std::unique_ptr<vfs::FileSystem>> mount_tmpfs(const vfs::MountRequest& req) {
    MountOptions o = UKFS_TRY(parse_mount_request(req));
    return std::unique_ptr<vfs::FileSystem>(std::make_unique<Tmpfs>(o));
}

Tmpfs::Tmpfs(const MountOptions& options)
    : m_options(options), m_pages(options.pages_max), m_reported_pages(physical_pages()),
      m_random(std::random_device{}()) {
    const timespec t = now();
    auto root = std::make_shared<Node>(m_next_ino++, VType::dir, m_random(), t);
    root->mode = options.root_mode;
    root->uid = options.root_uid;
    root->gid = options.root_gid;
    root->nlink = 2;  // "." and the entry that mounts it
    root->dir.parent = root->ino;
    m_nodes.emplace(root->ino, std::move(root));
    m_node_count = 1;
}

Result<std::unique_ptr<vfs::Vnode>> Tmpfs::load(InodeNo ino) {
    std::shared_ptr<Node> node = find(ino);
    if (!node)
        return Error::sys(ENOENT, fmt::format("tmpfs: no node {}", ino));
    return std::unique_ptr<vfs::Vnode>(std::make_unique<TmpfsVnode>(*this, std::move(node)));
}

std::shared_ptr<Node> Tmpfs::find(InodeNo ino) const {
    std::lock_guard guard(m_table_lock);
    auto it = m_nodes.find(ino);
    return it == m_nodes.end() ? nullptr : it->second;
}

// The last reference to an unlinked node is gone: give back its pages and its slot. The Node
// itself lives on until the vnode that points at it is destroyed.
Result<void> Tmpfs::reclaim(vfs::Vnode& vnode) {
    auto* tv = dynamic_cast<TmpfsVnode*>(&vnode);
    if (tv == nullptr || &tv->fs() != this)
        return Error::sys(EINVAL, "tmpfs: reclaim of a vnode of another mount");
    Node& node = tv->node();
    if (node.nlink != 0 || node.reclaimed)
        return {};
    node.reclaimed = true;
    node.file.release(m_pages);
    node.target.clear();
    node.target.shrink_to_fit();
    std::lock_guard guard(m_table_lock);
    m_nodes.erase(node.ino);
    m_node_count.fetch_sub(1, std::memory_order_relaxed);
    return {};
}

Result<vfs::StatFs> Tmpfs::statfs() {
    vfs::StatFs s;
    s.bsize = page_size;
    s.iosize = page_size;
    const std::uint64_t used = m_pages.used();
    s.blocks = m_pages.max() != PageAccount::unlimited ? m_pages.max()
                                                       : std::max(m_reported_pages, used);
    s.bfree = s.blocks - std::min(used, s.blocks);
    s.bavail = s.bfree;
    const std::uint64_t nodes = m_node_count.load(std::memory_order_relaxed);
    s.ffree = m_options.nodes_max - std::min(nodes, m_options.nodes_max);
    s.files = nodes + s.ffree;
    s.namemax = name_max;
    return s;
}

Result<void> Tmpfs::unmount() {
    std::lock_guard guard(m_table_lock);
    for (auto& [ino, node] : m_nodes)
        node->file.release(m_pages);
    m_nodes.clear();
    m_node_count = 0;
    return {};
}

Result<std::shared_ptr<Node>> Tmpfs::new_node(const vfs::NewNode& spec, timespec t) {
    std::lock_guard guard(m_table_lock);
    auto node = std::make_shared<Node>(m_next_ino, spec.type, m_random(), t);
    node->mode = spec.mode & 07777;
    node->uid = spec.uid;
    node->gid = spec.gid;
    if (spec.type == VType::blk || spec.type == VType::chr)
        node->rdev = spec.rdev;

    std::uint64_t count = m_node_count.load(std::memory_order_relaxed);
    do {
        if (count >= m_options.nodes_max)
            return Error::sys(ENOSPC, fmt::format("tmpfs: the node limit ({}) is reached",
                                                  m_options.nodes_max));
    } while (!m_node_count.compare_exchange_weak(count, count + 1, std::memory_order_relaxed));
    try {
        m_nodes.emplace(node->ino, node);
    } catch (...) {
        m_node_count.fetch_sub(1, std::memory_order_relaxed);
        throw;
    }
    ++m_next_ino;
    return node;
}

void Tmpfs::drop_new_node(const Node& node) {
    std::lock_guard guard(m_table_lock);
    if (m_nodes.erase(node.ino) != 0)
        m_node_count.fetch_sub(1, std::memory_order_relaxed);
}

Result<void> Tmpfs::check_writable() const {
    if (m_options.read_only)
        return Error::sys(EROFS);
    return {};
}

void Tmpfs::accessed(Node& node) const {
    if (!m_options.noatime && !m_options.read_only)
        node.set_atime(now());
}

}  // namespace uk::tmpfs
