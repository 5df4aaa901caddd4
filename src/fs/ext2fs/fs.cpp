// Mount, the inode -> vnode step, statfs. Facts: kernel ext4 super.rst, group_descr.rst.
#include "fs/ext2fs/fs.hpp"

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "fs/ext2fs/inode.hpp"
#include "fs/ext2fs/journal.hpp"
#include "fs/ext2fs/vnode_ops.hpp"

namespace uk::ext2fs {

namespace {

// The cache holds at least this many blocks: a walk pins a few (a directory block, an inode
// table block, an extent node) and read-ahead takes up to half.
constexpr std::size_t min_cache_blocks = 64;

}  // namespace

Result<io::BufRef> Ext2Fs::block(std::uint64_t b, const std::string& what) {
    UKFS_TRY(m_geometry.check_blocks(b, 1, what));
    return m_cache->get(b);
}

bool Ext2Fs::checksum_verified(std::uint64_t b) const {
    std::lock_guard guard(m_verified_lock);
    return m_verified.count(b) != 0;
}

void Ext2Fs::set_checksum_verified(std::uint64_t b) {
    std::lock_guard guard(m_verified_lock);
    m_verified.insert(b);
}

Result<std::unique_ptr<vfs::Vnode>> Ext2Fs::load(InodeNo ino) {
    InodeData inode = UKFS_TRY(load_inode(*this, ino));
    return std::unique_ptr<vfs::Vnode>(std::make_unique<Ext2Vnode>(*this, std::move(inode)));
}

Result<void> Ext2Fs::reclaim(vfs::Vnode& node) {
    if (m_read_only)
        return {};
    return release_inode(*this, static_cast<Ext2Vnode&>(node).inode());
}

// Free counts from the group descriptors: ext4 updates the superblock's totals lazily.
Result<vfs::StatFs> Ext2Fs::statfs() {
    const Geometry& g = m_geometry;
    vfs::StatFs s;
    s.bsize = g.block_size;
    s.iosize = g.block_size;
    s.blocks = g.blocks_count - g.first_data_block;
    const auto [free_blocks, free_inodes] = free_totals();
    s.bfree = std::min(free_blocks, s.blocks);
    s.bavail = s.bfree - std::min(s.bfree, g.reserved_blocks);
    s.files = g.inodes_count;
    s.ffree = std::min<std::uint64_t>(free_inodes, g.inodes_count);
    s.namemax = name_max;
    return s;
}

Result<std::unique_ptr<vfs::FileSystem>> mount_ext2fs(const vfs::MountRequest& req) {
    if (!req.device)
        return Error::sys(EINVAL, "ext2fs: a device is needed");
    // req.args may point at a struct ext2fs_args (NetBSD's ufs_args: char *fspec); nothing in
    // it concerns us, so it is ignored.
    std::shared_ptr<io::BlockDevice> device = req.device;
    Superblock sb = UKFS_TRY(read_superblock(*device));
    Geometry g = UKFS_TRY(derive_geometry(sb, device->size()));
    UKFS_TRY(check_features(sb, req.read_only()));
    if (g.has_incompat(incompat_recover)) {
        // Read-write: the journal is replayed onto the device. Read-only: `device` becomes a
        // view of the recovered state and nothing is written. Then mount what recovery left.
        device = UKFS_TRY(recover_journal(device, sb, g, req.read_only()));
        sb = UKFS_TRY(read_superblock(*device));
        g = UKFS_TRY(derive_geometry(sb, device->size()));
        UKFS_TRY(check_features(sb, req.read_only()));
    }

    io::CacheOptions options;
    options.budget_bytes = std::max(req.cache_budget, min_cache_blocks * g.block_size);
    options.ordered = req.ordered_writes();
    auto cache = UKFS_TRY(io::BufferCache::create(device, g.block_size, options));
    std::vector<GroupInfo> groups = UKFS_TRY(load_groups(g, *cache));
    auto fs = std::make_unique<Ext2Fs>(g, sb, std::move(cache), std::move(groups), req.read_only());
    fs->set_clock(req.clock);

    const InodeData root = UKFS_TRY(load_inode(*fs, root_ino));
    if (root.type != VType::dir)
        return Error::corrupt("ext2fs: inode 2", "the root is not a directory");
    if (!req.read_only())
        UKFS_TRY(fs->begin_writing());
    return std::unique_ptr<vfs::FileSystem>(std::move(fs));
}

}  // namespace uk::ext2fs
