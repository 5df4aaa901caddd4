// Mount, the inode -> vnode step, statfs, and the fragment readers (see fs.hpp).
#include "fs/ffs/fs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <ukfs/netbsd.h>

#include "fs/ffs/inode.hpp"
#include "fs/ffs/vnode_ops.hpp"

namespace uk::ffs {

namespace {

// The cache holds at least this many file system blocks.
constexpr std::size_t min_cache_blocks = 64;

}  // namespace

Result<void> FfsFs::read_bytes(std::uint64_t frag, std::uint64_t off, std::span<std::byte> dst) {
    const Geometry& g = m_geometry;
    std::size_t done = 0;
    while (done < dst.size()) {
        const std::uint64_t pos = off + done;
        const std::uint64_t block = frag + (pos >> g.fshift);
        const std::uint64_t in = pos & (g.fsize - 1);
        const std::size_t left = dst.size() - done;
        if (in == 0 && left >= g.fsize) {
            const std::size_t whole = left & ~std::size_t{g.fsize - 1};
            UKFS_TRY(m_cache->read_direct(block, dst.subspan(done, whole)));
            done += whole;
            continue;
        }
        io::BufRef buf = UKFS_TRY(m_cache->get(block));
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(left, g.fsize - in));
        std::memcpy(dst.data() + done, buf.data().data() + in, take);
        done += take;
    }
    return {};
}

Result<std::uint64_t> FfsFs::read_ptr(std::uint64_t block, std::uint32_t index,
                                      const std::string& what) {
    const Geometry& g = m_geometry;
    UKFS_TRY(g.check_frags(block, g.frag, what));
    if (index >= g.nindir)
        return Error::corrupt(what, fmt::format("pointer {} is past the block", index));
    const std::uint64_t off = std::uint64_t{index} * g.ptr_size;
    if (g.ufs2) {
        Raw64 p;
        UKFS_TRY(read_bytes(block, off, std::as_writable_bytes(std::span(&p, 1))));
        return g.order.u64(p);
    }
    Raw32 p;
    UKFS_TRY(read_bytes(block, off, std::as_writable_bytes(std::span(&p, 1))));
    return std::uint64_t{g.order.u32(p)};
}

Result<std::unique_ptr<vfs::Vnode>> FfsFs::load(InodeNo ino) {
    InodeData inode = UKFS_TRY(load_inode(*this, ino));
    return std::unique_ptr<vfs::Vnode>(std::make_unique<FfsVnode>(*this, inode));
}

Result<void> FfsFs::reclaim(vfs::Vnode&) {
    return {};  // read-only: nothing is ever unlinked
}

// As NetBSD's ffs_statvfs: fragments as the unit, the reserve (fs_minfree) out of bavail.
Result<vfs::StatFs> FfsFs::statfs() {
    const Geometry& g = m_geometry;
    vfs::StatFs s;
    s.bsize = g.fsize;
    s.iosize = g.bsize;
    s.blocks = g.dsize;
    const std::uint64_t bfree = (g.cs_nbfree << g.fragshift) + g.cs_nffree;
    s.bfree = std::min(bfree, s.blocks);
    const std::uint64_t reserve = g.dsize / 100 * g.minfree;
    s.bavail = s.bfree - std::min(s.bfree, reserve);
    s.files = g.inodes() - root_ino;
    s.ffree = std::min(g.cs_nifree, s.files);
    s.namemax = maxnamlen;
    return s;
}

Result<std::unique_ptr<vfs::FileSystem>> mount_ffs(const vfs::MountRequest& req) {
    if (!req.device)
        return Error::sys(EINVAL, "ffs: a device is needed");
    // req.args may point at a struct ufs_args (char *fspec); nothing in it concerns us.
    if (req.args != nullptr && req.args_len != 0 && req.args_len < sizeof(ufs_args))
        return Error::sys(EINVAL, "ffs: the mount arguments are not a struct ufs_args");
    if (!req.read_only())
        return Error::sys(EROFS, "ffs: the ffs driver is read-only in this version: mount "
                                 "read-only");
    io::BlockDevice& dev = *req.device;
    const FoundSuperblock found = UKFS_TRY(find_superblock(dev));
    const Geometry g = UKFS_TRY(derive_geometry(found, dev.size()));

    io::CacheOptions options;
    options.budget_bytes = std::max(req.cache_budget, min_cache_blocks * g.bsize);
    auto cache = UKFS_TRY(io::BufferCache::create(req.device, g.fsize, options));
    auto fs = std::make_unique<FfsFs>(g, std::move(cache));
    const InodeData root = UKFS_TRY(load_inode(*fs, root_ino));
    if (root.type != VType::dir)
        return Error::corrupt("ffs: inode 2", "the root is not a directory");
    return std::unique_ptr<vfs::FileSystem>(std::move(fs));
}

}  // namespace uk::ffs
