// Mount, the inode -> vnode step, statfs, and the fragment readers (see fs.hpp).
#include "fs/ffs/fs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include <ukfs/netbsd.h>

#include "fs/ffs/inode.hpp"
#include "fs/ffs/vnode_ops.hpp"
#include "fs/ffs/wapbl.hpp"

namespace uk::ffs {

namespace {

// The cache holds at least this many file system blocks.
constexpr std::size_t min_cache_blocks = 64;

struct Chosen {
    FoundSuperblock found;
    Geometry geometry;
    bool copy = false;  // a backup superblock, chosen by `backup` or `sb=`
};

// The superblock to mount with. By default the primary, where NetBSD searches; when it does
// not validate but a copy in cylinder group 1 does, the error says so and names the options
// that take the copy: `backup` (that copy) and `sb=N` (the copy at 512-byte sector N, as
// fsck_ffs -b counts). A copy is used read-only: its totals are as old as the copy (statfs
// recounts them from the groups), and writing would leave the damaged primary in place.
Result<Chosen> choose_superblock(io::BlockDevice& dev, const vfs::MountRequest& req) {
    bool backup = false;
    std::optional<std::uint64_t> sector;
    for (const auto& p : req.params) {
        if (p.first == "backup" && p.second.empty())
            backup = true;
        else if (p.first == "sb")
            sector = UKFS_TRY(vfs::param_number(p, 1, dev.size() / dev_bsize));
        else
            return Error::sys(EINVAL, fmt::format("ffs: bad mount option \"{}\"", p.first));
    }
    if (backup || sector) {
        if (!req.read_only())
            return Error::sys(EROFS, "ffs: a mount from a superblock copy is read-only only; "
                                     "mount read-only (-o ro)");
        std::uint64_t at = 0;
        if (sector) {
            at = *sector * dev_bsize;
        } else {
            const Geometry b = UKFS_TRY(find_backup_geometry(dev));
            at = b.sblock_offset;
        }
        const std::optional<FoundSuperblock> f = superblock_at(dev, at);
        if (!f)
            return Error::sys(EINVAL, fmt::format("ffs: no superblock magic at byte {}", at));
        Result<Geometry> g = derive_geometry(*f, dev.size());
        if (!g)
            return g.error().context(fmt::format("the superblock copy at byte {}: ", at));
        return Chosen{*f, *g, true};
    }
    Result<FoundSuperblock> found = find_superblock(dev);
    Result<Geometry> g =
        found ? derive_geometry(*found, dev.size()) : Result<Geometry>(found.error());
    if (g)
        return Chosen{*found, *g};
    if (const auto b = find_backup_geometry(dev)) {
        const std::uint64_t n = b->sblock_offset / dev_bsize;
        return Error::sys(
            g.error().errnum(),
            fmt::format("ffs: the primary superblock is bad ({}); a copy in cylinder group 1 "
                        "validates: mount read-only with -o backup (or -o sb={})",
                        g.error().message(), n));
    }
    return g.error();
}

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

Result<void> FfsFs::write_bytes(std::uint64_t frag, std::uint64_t off,
                                std::span<const std::byte> src) {
    const Geometry& g = m_geometry;
    std::size_t done = 0;
    while (done < src.size()) {
        const std::uint64_t pos = off + done;
        const std::uint64_t block = frag + (pos >> g.fshift);
        const std::uint64_t in = pos & (g.fsize - 1);
        const auto take =
            static_cast<std::size_t>(std::min<std::uint64_t>(src.size() - done, g.fsize - in));
        io::BufRef buf =
            UKFS_TRY(take == g.fsize ? m_cache->get_zeroed(block) : m_cache->get(block));
        std::span<std::byte> bytes = buf.mark_dirty();
        std::memcpy(bytes.data() + in, src.data() + done, take);
        done += take;
    }
    return {};
}

Result<void> FfsFs::zero_frags(std::uint64_t frag, std::uint64_t count) {
    for (std::uint64_t i = 0; i < count; ++i)
        UKFS_TRY(m_cache->get_zeroed(frag + i));
    return {};
}

Result<void> FfsFs::write_ptr(std::uint64_t block, std::uint32_t index, std::uint64_t value) {
    const Geometry& g = m_geometry;
    UKFS_TRY(g.check_frags(block, g.frag, "ffs: indirect block"));
    const std::uint64_t off = std::uint64_t{index} * g.ptr_size;
    if (g.ufs2) {
        Raw64 p;
        g.order.set(p, value);
        return write_bytes(block, off, std::as_bytes(std::span(&p, 1)));
    }
    Raw32 p;
    g.order.set(p, static_cast<std::uint32_t>(value));
    return write_bytes(block, off, std::as_bytes(std::span(&p, 1)));
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

Result<void> FfsFs::reclaim(vfs::Vnode& node) {
    if (m_read_only)
        return {};
    return release_inode(*this, static_cast<FfsVnode&>(node).inode());
}

FfsFs::FfsFs(const Geometry& geometry, const Superblock& sb, std::unique_ptr<io::BufferCache> cache,
             bool read_only)
    : m_geometry(geometry), m_sb(sb), m_cache(std::move(cache)), m_read_only(read_only),
      m_contigsumsize(geometry.order.u32(sb.fs_contigsumsize)),
      m_generation(static_cast<std::uint32_t>(std::time(nullptr))) {}

Result<void> check_writable(const Geometry& g, const Superblock& sb) {
    const Order o = g.order;
    const auto refuse = [](std::string_view why) {
        return Error::sys(EROFS, fmt::format("ffs: cannot mount read-write: {}; mount "
                                             "read-only",
                                             why));
    };
    if (!g.ufs2 && (sb.fs_old_flags & fs_flags_updated) == 0)
        return refuse("the UFS1 superblock is in the old (pre-FS_FLAGS_UPDATED) format");
    if (g.old_dirfmt)
        return refuse("the inodes and directories are in the 4.2BSD format");
    if (o.u32(sb.fs_magic) == ufs2ea_magic)
        return refuse("the file system has UFS2 extended attribute areas");
    if ((g.clean & fs_isclean) == 0 || (g.flags & (fs_unclean | fs_needsfsck)) != 0)
        return refuse("the file system is not clean (run fsck)");
    if ((g.flags & fs_dowapbl) != 0)
        return refuse("the file system has an active WAPBL log, replayed only for reading");
    if ((g.flags & fs_suj) != 0)
        return refuse("the file system uses journaled soft updates (FS_SUJ)");
    if ((g.flags & fs_dosoftdep) != 0)
        return refuse("the file system uses soft updates");
    if ((g.flags & fs_gjournal) != 0)
        return refuse("the file system uses gjournal");
    if ((g.flags & fs_doquota2) != 0)
        return refuse("the file system keeps quotas, which are not updated");
    constexpr std::uint32_t known = fs_posix1eacls | fs_multilabel | fs_trim | fs_nfs4acls;
    if ((g.flags & ~known) != 0)
        return refuse(
            fmt::format("fs_flags has bits {:#x} that are not understood", g.flags & ~known));
    for (const Raw32& snap : sb.fs_snapinum)
        if (o.u32(snap) != 0)
            return refuse("the file system has snapshots");
    if (o.u32(sb.fs_contigsumsize) > fs_maxcontig)
        return refuse("fs_contigsumsize is over FS_MAXCONTIG");
    return {};
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
    const std::uint64_t reserve = g.dsize * g.minfree / 100;  // as alloc.cpp's check_reserve
    s.bavail = s.bfree - std::min(s.bfree, reserve);
    s.files = g.inodes() - root_ino;
    s.ffree = std::min(g.cs_nifree, s.files);
    s.namemax = maxnamlen;
    return s;
}

Result<std::unique_ptr<vfs::FileSystem>> mount_ffs(const vfs::MountRequest& req) {
    if (!req.device)
        return Error::sys(EINVAL, "ffs: a device is needed");
    // req.args may point at a struct ufs_args (char *fspec); nothing in it concerns us. Given,
    // it must be whole: NetBSD's ffs_mount refuses a shorter *data_len with EINVAL.
    if (req.args != nullptr && req.args_len < sizeof(ufs_args))
        return Error::sys(EINVAL, fmt::format("ffs: mount arguments of {} bytes, less than "
                                              "struct ufs_args ({})",
                                              req.args_len, sizeof(ufs_args)));
    io::BlockDevice& dev = *req.device;
    Chosen chosen = UKFS_TRY(choose_superblock(dev, req));
    if (!req.read_only())
        UKFS_TRY(check_writable(chosen.geometry, chosen.found.sb));
    // FS_DOWAPBL: the log may hold committed transactions. As NetBSD's kernel for a read-only
    // mount, replay it in memory and read the superblock again through the replayed view.
    std::shared_ptr<io::BlockDevice> device = req.device;
    if ((chosen.geometry.flags & fs_dowapbl) != 0) {
        auto log = WapblLog::read(dev, chosen.found.sb, chosen.geometry.order);
        if (!log)
            return log.error().context("ffs: cannot replay the WAPBL log: ");
        device = std::make_shared<WapblOverlay>(req.device, std::move(*log));
        chosen = UKFS_TRY(choose_superblock(*device, req));
    }
    const FoundSuperblock& found = chosen.found;
    const Geometry& g = chosen.geometry;

    io::CacheOptions options;
    options.budget_bytes = std::max(req.cache_budget, min_cache_blocks * g.bsize);
    options.ordered = req.ordered_writes();
    auto cache = UKFS_TRY(io::BufferCache::create(device, g.fsize, options));
    auto fs = std::make_unique<FfsFs>(g, found.sb, std::move(cache), req.read_only());
    fs->set_clock(req.clock);
    if (chosen.copy)
        UKFS_TRY(fs->count_from_groups());
    const InodeData root = UKFS_TRY(load_inode(*fs, root_ino));
    if (root.type != VType::dir)
        return Error::corrupt("ffs: inode 2", "the root is not a directory");
    if (!req.read_only())
        UKFS_TRY(fs->begin_writing());
    return std::unique_ptr<vfs::FileSystem>(std::move(fs));
}

}  // namespace uk::ffs
