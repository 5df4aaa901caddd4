// Writing FFS inodes back (see inode.hpp). Facts: NetBSD sys/ufs/ufs/dinode.h, ffs_vfsops.c
// (ffs_update's fields), ffs_alloc.c (a new inode's generation).
#include <cstring>

#include <fmt/format.h>

#include "fs/ffs/lazy_check.hpp"

#include "fs/ffs/inode.hpp"

namespace uk::ffs {

namespace {

bool raw_pointers(const Geometry& g, const InodeData& n) {
    return n.type == VType::chr || n.type == VType::blk || fast_symlink(g, n);
}

void encode_ufs1(const Geometry& g, const InodeData& n, Dinode1& d) {
    const Order o = g.order;
    o.set(d.di_mode, n.mode);
    o.set(d.di_nlink, n.nlink);
    o.set(d.di_size, n.size);
    o.set(d.di_blocks, static_cast<std::uint32_t>(n.blocks_512));
    o.set(d.di_flags, n.flags);
    o.set(d.di_gen, n.gen);
    o.set(d.di_uid, n.uid);
    o.set(d.di_gid, n.gid);
    const auto t32 = [&](Raw32& s, Raw32& ns, const timespec& t) {
        o.set(s, static_cast<std::uint32_t>(static_cast<std::int32_t>(t.tv_sec)));
        o.set(ns, static_cast<std::uint32_t>(t.tv_nsec));
    };
    t32(d.di_atime, d.di_atimensec, n.atime);
    t32(d.di_mtime, d.di_mtimensec, n.mtime);
    t32(d.di_ctime, d.di_ctimensec, n.ctime);
    if (raw_pointers(g, n)) {
        std::memcpy(&d.di_db, n.ptr_bytes.data(), sizeof d.di_db);
        std::memcpy(&d.di_ib, n.ptr_bytes.data() + sizeof d.di_db, sizeof d.di_ib);
        return;
    }
    for (std::size_t i = 0; i < ndaddr; ++i)
        o.set(d.di_db[i], static_cast<std::uint32_t>(n.db[i]));
    for (std::size_t i = 0; i < niaddr; ++i)
        o.set(d.di_ib[i], static_cast<std::uint32_t>(n.ib[i]));
}

void encode_ufs2(const Geometry& g, const InodeData& n, Dinode2& d) {
    const Order o = g.order;
    o.set(d.di_mode, n.mode);
    o.set(d.di_nlink, n.nlink);
    o.set(d.di_uid, n.uid);
    o.set(d.di_gid, n.gid);
    o.set(d.di_size, n.size);
    o.set(d.di_blocks, n.blocks_512);
    o.set(d.di_flags, n.flags);
    o.set(d.di_gen, n.gen);
    const auto t64 = [&](Raw64& s, Raw32& ns, const timespec& t) {
        o.set(s, static_cast<std::uint64_t>(static_cast<std::int64_t>(t.tv_sec)));
        o.set(ns, static_cast<std::uint32_t>(t.tv_nsec));
    };
    t64(d.di_atime, d.di_atimensec, n.atime);
    t64(d.di_mtime, d.di_mtimensec, n.mtime);
    t64(d.di_ctime, d.di_ctimensec, n.ctime);
    t64(d.di_birthtime, d.di_birthnsec, n.birthtime);
    if (raw_pointers(g, n)) {
        std::memcpy(&d.di_db, n.ptr_bytes.data(), sizeof d.di_db);
        std::memcpy(&d.di_ib, n.ptr_bytes.data() + sizeof d.di_db, sizeof d.di_ib);
        return;
    }
    for (std::size_t i = 0; i < ndaddr; ++i)
        o.set(d.di_db[i], n.db[i]);
    for (std::size_t i = 0; i < niaddr; ++i)
        o.set(d.di_ib[i], n.ib[i]);
}

}  // namespace

Result<void> store_inode(FfsFs& fs, const InodeData& n, bool fresh) {
    const Geometry& g = fs.geometry();
    if (n.ino < root_ino || n.ino >= g.inodes())
        return Error::corrupt(n.what(), "is out of range");
    const std::uint64_t block = g.ino_to_fsba(n.ino);
    UKFS_TRY(check_frags_lazy(g, block, g.frag, [&] { return n.what() + ": inode block"; }));
    const std::uint64_t off = std::uint64_t{g.ino_to_fsbo(n.ino)} * g.inode_size;
    if (g.ufs2) {
        Dinode2 d{};
        if (!fresh)
            UKFS_TRY(fs.read_bytes(block, off, std::as_writable_bytes(std::span(&d, 1))));
        encode_ufs2(g, n, d);
        return fs.write_bytes(block, off, std::as_bytes(std::span(&d, 1)));
    }
    Dinode1 d{};
    if (!fresh)
        UKFS_TRY(fs.read_bytes(block, off, std::as_writable_bytes(std::span(&d, 1))));
    encode_ufs1(g, n, d);
    return fs.write_bytes(block, off, std::as_bytes(std::span(&d, 1)));
}

Result<void> clear_inode(FfsFs& fs, std::uint32_t ino, std::uint32_t gen) {
    InodeData n;
    n.ino = ino;
    n.gen = gen;
    return store_inode(fs, n, true);
}

void set_rdev(const Geometry& g, InodeData& n, std::uint32_t netbsd_dev) {
    n.ptr_bytes.fill(std::byte{0});
    n.rdev = netbsd_dev;
    if (g.ufs2) {
        Raw64 r;
        g.order.set(r, std::uint64_t{netbsd_dev});
        std::memcpy(n.ptr_bytes.data(), &r, sizeof r);
    } else {
        Raw32 r;
        g.order.set(r, netbsd_dev);
        std::memcpy(n.ptr_bytes.data(), &r, sizeof r);
    }
}

}  // namespace uk::ffs
