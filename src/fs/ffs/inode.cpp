// Loading FFS inodes (see inode.hpp).
#include "fs/ffs/inode.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "fs/ffs/lazy_check.hpp"

namespace uk::ffs {

namespace {

VType mode_type(std::uint16_t mode) {
    switch (mode & ifmt) {
    case ifreg: return VType::reg;
    case ifdir: return VType::dir;
    case iflnk: return VType::lnk;
    case ifblk: return VType::blk;
    case ifchr: return VType::chr;
    case ififo: return VType::fifo;
    case ifsock: return VType::sock;
    default: return VType::none;
    }
}

timespec make_time(std::int64_t sec, std::uint32_t nsec) {
    timespec t{};
    t.tv_sec = static_cast<time_t>(sec);
    t.tv_nsec = nsec < 1000000000u ? static_cast<long>(nsec) : 0;
    return t;
}

void decode_ufs1(const Geometry& g, const Dinode1& d, InodeData& n) {
    const Order o = g.order;
    n.mode = o.u16(d.di_mode);
    n.nlink = o.u16(d.di_nlink);
    n.size = o.u64(d.di_size);
    n.blocks_512 = o.u32(d.di_blocks);
    n.flags = o.u32(d.di_flags);
    n.gen = o.u32(d.di_gen);
    if (g.old_dirfmt) {  // 4.2BSD kept 16-bit owners in di_oldids
        Raw16 uid, gid;
        std::memcpy(uid.bytes, &d.di_oldids.bytes[0], 2);
        std::memcpy(gid.bytes, &d.di_oldids.bytes[2], 2);
        n.uid = o.u16(uid);
        n.gid = o.u16(gid);
    } else {
        n.uid = o.u32(d.di_uid);
        n.gid = o.u32(d.di_gid);
    }
    const auto s32 = [&](const Raw32& r) { return static_cast<std::int32_t>(o.u32(r)); };
    n.atime = make_time(s32(d.di_atime), o.u32(d.di_atimensec));
    n.mtime = make_time(s32(d.di_mtime), o.u32(d.di_mtimensec));
    n.ctime = make_time(s32(d.di_ctime), o.u32(d.di_ctimensec));
    for (std::size_t i = 0; i < ndaddr; ++i)
        n.db[i] = o.u32(d.di_db[i]);
    for (std::size_t i = 0; i < niaddr; ++i)
        n.ib[i] = o.u32(d.di_ib[i]);
    static_assert(sizeof d.di_db + sizeof d.di_ib <= inode_ptr_bytes);
    std::memcpy(n.ptr_bytes.data(), &d.di_db, sizeof d.di_db);
    std::memcpy(n.ptr_bytes.data() + sizeof d.di_db, &d.di_ib, sizeof d.di_ib);
    n.rdev = o.u32(d.di_db[0]);
}

void decode_ufs2(const Geometry& g, const Dinode2& d, InodeData& n) {
    const Order o = g.order;
    n.mode = o.u16(d.di_mode);
    n.nlink = o.u16(d.di_nlink);
    n.uid = o.u32(d.di_uid);
    n.gid = o.u32(d.di_gid);
    n.size = o.u64(d.di_size);
    n.blocks_512 = o.u64(d.di_blocks);
    n.flags = o.u32(d.di_flags);
    n.gen = o.u32(d.di_gen);
    const auto s64 = [&](const Raw64& r) { return static_cast<std::int64_t>(o.u64(r)); };
    n.atime = make_time(s64(d.di_atime), o.u32(d.di_atimensec));
    n.mtime = make_time(s64(d.di_mtime), o.u32(d.di_mtimensec));
    n.ctime = make_time(s64(d.di_ctime), o.u32(d.di_ctimensec));
    n.birthtime = make_time(s64(d.di_birthtime), o.u32(d.di_birthnsec));
    for (std::size_t i = 0; i < ndaddr; ++i)
        n.db[i] = o.u64(d.di_db[i]);
    for (std::size_t i = 0; i < niaddr; ++i)
        n.ib[i] = o.u64(d.di_ib[i]);
    static_assert(sizeof d.di_db + sizeof d.di_ib == inode_ptr_bytes);
    std::memcpy(n.ptr_bytes.data(), &d.di_db, sizeof d.di_db);
    std::memcpy(n.ptr_bytes.data() + sizeof d.di_db, &d.di_ib, sizeof d.di_ib);
    n.rdev = static_cast<std::uint32_t>(o.u64(d.di_db[0]));
}

}  // namespace

std::string InodeData::what() const {
    return fmt::format("ffs: inode {}", ino);
}

bool fast_symlink(const Geometry& g, const InodeData& n) {
    if (n.type != VType::lnk)
        return false;
    if (g.maxsymlinklen > 0)
        return n.size < g.maxsymlinklen;
    return n.blocks_512 == 0;
}

Result<InodeData> load_inode(FfsFs& fs, std::uint64_t ino) {
    const Geometry& g = fs.geometry();
    const auto what = [&] { return fmt::format("ffs: inode {}", ino); };
    if (ino < root_ino || ino >= g.inodes())
        return Error::corrupt(
            what(), fmt::format("is out of range (root {} to {})", root_ino, g.inodes() - 1));
    const std::uint64_t block = g.ino_to_fsba(ino);
    UKFS_TRY(check_frags_lazy(g, block, g.frag, [&] { return what() + ": inode block"; }));
    const std::uint64_t off = std::uint64_t{g.ino_to_fsbo(ino)} * g.inode_size;
    InodeData n;
    n.ino = static_cast<std::uint32_t>(ino);
    if (g.ufs2) {
        Dinode2 d{};
        UKFS_TRY(fs.read_bytes(block, off, std::as_writable_bytes(std::span(&d, 1))));
        decode_ufs2(g, d, n);
    } else {
        Dinode1 d{};
        UKFS_TRY(fs.read_bytes(block, off, std::as_writable_bytes(std::span(&d, 1))));
        decode_ufs1(g, d, n);
    }
    if (n.mode == 0)
        return Error::corrupt(what(), "is not in use (di_mode 0)");
    n.type = mode_type(n.mode);
    if (n.type == VType::none)
        return Error::corrupt(what(),
                              fmt::format("has an unknown file type in di_mode {:o}", n.mode));
    if (n.nlink == 0)
        return Error::corrupt(what(), "has no links (di_nlink 0)");
    if (n.size > g.maxfilesize)
        return Error::corrupt(
            what(), fmt::format("di_size {} is over the largest file ({})", n.size, g.maxfilesize));
    if (n.type == VType::dir && n.size % dirblksiz != 0)
        return Error::corrupt(what(), fmt::format("a directory's di_size {} is not a multiple "
                                                  "of {}",
                                                  n.size, dirblksiz));
    // A directory has no holes, so it is never larger than the file system (this bounds
    // every walk over it, whatever its block pointers repeat).
    if (n.type == VType::dir && n.size > g.size << g.fshift)
        return Error::corrupt(what(), fmt::format("a directory's di_size {} is larger than the "
                                                  "file system",
                                                  n.size));
    return n;
}

}  // namespace uk::ffs
