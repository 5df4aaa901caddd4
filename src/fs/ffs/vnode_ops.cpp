// FFS vnode operations (see vnode_ops.hpp). Facts: NetBSD sys/ufs/ufs/ufs_vnops.c (link counts
// of directories, rename's ".."), ufs_inode.c (freeing an inode with its last link),
// sys/sys/stat.h (the chflags values kept in di_flags as they are).
#include "fs/ffs/vnode_ops.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>

#include <sys/sysmacros.h>

#include "fs/ffs/bmap.hpp"
#include "fs/ffs/dir.hpp"

namespace uk::ffs {

namespace {

constexpr std::uint16_t link_max = 32767;    // NetBSD's LINK_MAX
constexpr std::uint64_t symlink_max = 1023;  // MAXPATHLEN less the NUL
constexpr std::uint32_t settable_flags =
    uf_nodump | uf_immutable | uf_append | uf_opaque | sf_archived | sf_immutable | sf_append;

FfsVnode& ffs(vfs::Vnode& v) {
    return static_cast<FfsVnode&>(v);
}

Result<void> writable(const FfsFs& fs) {
    if (fs.read_only())
        return Error::sys(EROFS);
    return {};
}

bool has_blocks(const Geometry& g, const InodeData& n) {
    return n.type == VType::reg || n.type == VType::dir ||
           (n.type == VType::lnk && !fast_symlink(g, n));
}

}  // namespace

std::uint64_t decode_rdev(std::uint32_t dev) {
    return makedev(netbsd_major(dev), netbsd_minor(dev));
}

Result<void> release_inode(FfsFs& fs, InodeData& inode) {
    if (has_blocks(fs.geometry(), inode))
        UKFS_TRY(resize(fs, inode, 0));
    inode.nlink = 0;
    UKFS_TRY(clear_inode(fs, inode.ino, inode.gen));
    return fs.free_inode(inode.ino, inode.type == VType::dir);
}

Result<vfs::Attr> FfsVnode::getattr() {
    const InodeData& n = m_inode;
    vfs::Attr a;
    a.type = n.type;
    a.mode = n.mode & 07777u;
    a.nlink = n.nlink;
    a.uid = n.uid;
    a.gid = n.gid;
    a.ino = n.ino;
    a.size = n.size;
    a.blocks = n.blocks_512;
    a.blksize = m_fs.geometry().bsize;
    if (n.type == VType::chr || n.type == VType::blk)
        a.rdev = decode_rdev(n.rdev);
    a.atime = n.atime;
    a.mtime = n.mtime;
    a.ctime = n.ctime;
    a.birthtime = n.birthtime;
    a.flags = n.flags;  // di_flags holds NetBSD's chflags values as they are
    a.gen = n.gen;
    return a;
}

Result<void> FfsVnode::store() {
    return store_inode(m_fs, m_inode);
}

Result<void> FfsVnode::setattr(const vfs::SetAttr& c) {
    UKFS_TRY(writable(m_fs));
    InodeData& n = m_inode;
    if (c.flags) {
        // NetBSD's ufs_setattr: "Snapshot flag cannot be set or cleared" (EPERM), by anyone;
        // passed on unchanged, it stays. Who may change which flags the VFS decided
        // (Mount::chflags).
        constexpr std::uint32_t snapshot_flags = sf_snapshot | sf_snapinval;
        if (((*c.flags ^ n.flags) & snapshot_flags) != 0)
            return Error::sys(EPERM, "ffs: a snapshot's flag cannot be set or cleared");
        if ((*c.flags & ~(settable_flags | snapshot_flags)) != 0)
            return Error::sys(EOPNOTSUPP, "ffs: a flag that cannot be set");
    }
    if (c.size) {
        if (n.type == VType::dir)
            return Error::sys(EISDIR);
        if (n.type != VType::reg)
            return Error::sys(EINVAL, "ffs: only a regular file's size can change");
        if (*c.size != n.size) {
            auto r = resize(m_fs, n, *c.size);
            if (!r) {
                (void)store();
                return r;
            }
            n.mtime = m_fs.now();
        }
    }
    if (c.flags)
        n.flags = *c.flags;
    if (c.mode)
        n.mode = static_cast<std::uint16_t>((n.mode & ~07777u) | (*c.mode & 07777u));
    if (c.uid)
        n.uid = *c.uid;
    if (c.gid)
        n.gid = *c.gid;
    if (c.atime)
        n.atime = *c.atime;
    if (c.mtime)
        n.mtime = *c.mtime;
    if (c.birthtime && m_fs.geometry().ufs2)
        n.birthtime = *c.birthtime;
    n.ctime = m_fs.now();
    return store();
}

Result<InodeNo> FfsVnode::lookup(std::string_view name) {
    if (m_inode.type != VType::dir)
        return Error::sys(ENOTDIR);
    if (name.size() > maxnamlen)
        return Error::sys(ENAMETOOLONG);
    return dir_lookup(m_fs, m_inode, name);
}

Result<void> FfsVnode::readdir(std::uint64_t cookie, const vfs::DirVisitor& visit) {
    if (m_inode.type != VType::dir)
        return Error::sys(ENOTDIR);
    return dir_list(m_fs, m_inode, cookie, visit);
}

Result<InodeNo> FfsVnode::make_node(std::string_view name, const vfs::NewNode& spec,
                                    std::string_view target) {
    UKFS_TRY(writable(m_fs));
    const Geometry& g = m_fs.geometry();
    InodeData& dir = m_inode;
    if (dir.type != VType::dir)
        return Error::sys(ENOTDIR);
    if (name.size() > maxnamlen)
        return Error::sys(ENAMETOOLONG);
    if (dir.nlink == 0)
        return Error::sys(ENOENT, "ffs: the directory was removed");
    const bool is_dir = spec.type == VType::dir;
    if (is_dir && dir.nlink >= link_max)
        return Error::sys(EMLINK);
    const std::uint32_t ino = UKFS_TRY(m_fs.alloc_inode(dir.ino, is_dir));
    InodeData child;
    child.ino = ino;
    child.type = spec.type;
    child.mode = static_cast<std::uint16_t>(vfs::vtype_to_ifmt(spec.type) | (spec.mode & 07777u));
    child.nlink = is_dir ? 2 : 1;
    child.uid = spec.uid;
    child.gid = spec.gid;
    child.gen = m_fs.next_generation();
    child.atime = child.mtime = child.ctime = m_fs.now();
    if (g.ufs2)
        child.birthtime = child.ctime;
    auto filled = [&]() -> Result<void> {
        if (spec.type == VType::chr || spec.type == VType::blk)
            set_rdev(g, child, netbsd_makedev(major(spec.rdev), minor(spec.rdev)));
        if (is_dir)
            UKFS_TRY(dir_init(m_fs, child, dir.ino));
        if (spec.type == VType::lnk) {
            if (g.maxsymlinklen > 0 && target.size() < g.maxsymlinklen) {
                std::memcpy(child.ptr_bytes.data(), target.data(), target.size());
                child.size = target.size();
            } else {
                const auto bytes = std::as_bytes(std::span(target));
                const std::size_t n = UKFS_TRY(write_data(m_fs, child, 0, bytes));
                if (n != bytes.size())
                    return Error::sys(ENOSPC);
            }
        }
        return store_inode(m_fs, child, true);
    }();
    if (!filled) {
        (void)release_inode(m_fs, child);  // give back the inode and any block it took
        return filled.error();
    }
    if (auto added = dir_add(m_fs, dir, name, ino, spec.type); !added) {
        (void)release_inode(m_fs, child);
        return added.error();
    }
    if (is_dir)
        ++dir.nlink;
    dir.mtime = dir.ctime = child.ctime;
    UKFS_TRY(store());
    return InodeNo{ino};
}

Result<InodeNo> FfsVnode::create(std::string_view name, const vfs::NewNode& spec) {
    if (spec.type == VType::lnk || spec.type == VType::none)
        return Error::sys(EINVAL);
    return make_node(name, spec, {});
}

Result<InodeNo> FfsVnode::symlink(std::string_view name, std::string_view target,
                                  const vfs::NewNode& spec) {
    if (target.empty() || target.size() > symlink_max)
        return Error::sys(target.empty() ? ENOENT : ENAMETOOLONG);
    vfs::NewNode node = spec;
    node.type = VType::lnk;
    node.mode = 0777;
    return make_node(name, node, target);
}

Result<void> FfsVnode::link(std::string_view name, vfs::Vnode& target) {
    UKFS_TRY(writable(m_fs));
    InodeData& t = ffs(target).inode();
    if (t.nlink >= link_max)
        return Error::sys(EMLINK);
    if (m_inode.nlink == 0)
        return Error::sys(ENOENT, "ffs: the directory was removed");
    ++t.nlink;
    t.ctime = m_fs.now();
    UKFS_TRY(store_inode(m_fs, t));
    if (auto added = dir_add(m_fs, m_inode, name, t.ino, t.type); !added) {
        --t.nlink;
        (void)store_inode(m_fs, t);
        return added.error();
    }
    m_inode.mtime = m_inode.ctime = t.ctime;
    return store();
}

Result<void> FfsVnode::remove(std::string_view name, vfs::Vnode& child) {
    UKFS_TRY(writable(m_fs));
    InodeData& c = ffs(child).inode();
    UKFS_TRY(dir_remove(m_fs, m_inode, name));
    m_inode.mtime = m_inode.ctime = m_fs.now();
    UKFS_TRY(store());
    if (c.nlink > 0)
        --c.nlink;
    c.ctime = m_inode.ctime;
    return store_inode(m_fs, c);
}

Result<void> FfsVnode::rmdir(std::string_view name, vfs::Vnode& child) {
    UKFS_TRY(writable(m_fs));
    InodeData& c = ffs(child).inode();
    if (c.type != VType::dir)
        return Error::sys(ENOTDIR);
    if (!UKFS_TRY(dir_is_empty(m_fs, c)))
        return Error::sys(ENOTEMPTY);
    UKFS_TRY(dir_remove(m_fs, m_inode, name));
    if (m_inode.nlink > 2)
        --m_inode.nlink;  // the child's ".."
    m_inode.mtime = m_inode.ctime = m_fs.now();
    UKFS_TRY(store());
    c.nlink = 0;
    c.ctime = m_inode.ctime;
    return store_inode(m_fs, c);
}

Result<void> FfsVnode::rename(std::string_view name, vfs::Vnode& child, vfs::Vnode& to_dir,
                              std::string_view to_name, vfs::Vnode* replaced) {
    UKFS_TRY(writable(m_fs));
    InodeData& c = ffs(child).inode();
    InodeData& to = ffs(to_dir).inode();
    InodeData& from = m_inode;
    const bool moves_dir = c.type == VType::dir && to.ino != from.ino;
    if (moves_dir && to.nlink >= link_max &&
        (replaced == nullptr || replaced->type() != VType::dir))
        return Error::sys(EMLINK);
    const timespec t = m_fs.now();
    if (replaced != nullptr) {
        InodeData& r = ffs(*replaced).inode();
        if (r.type == VType::dir && !UKFS_TRY(dir_is_empty(m_fs, r)))
            return Error::sys(ENOTEMPTY);
        UKFS_TRY(dir_retarget(m_fs, to, to_name, c.ino, c.type));
        if (r.type == VType::dir) {
            r.nlink = 0;
            if (to.nlink > 2)
                --to.nlink;  // the replaced directory's ".."
        } else if (r.nlink > 0) {
            --r.nlink;
        }
        r.ctime = t;
        UKFS_TRY(store_inode(m_fs, r));
    } else {
        UKFS_TRY(dir_add(m_fs, to, to_name, c.ino, c.type));
    }
    UKFS_TRY(dir_remove(m_fs, from, name));
    if (moves_dir) {
        UKFS_TRY(dir_retarget(m_fs, c, "..", to.ino, VType::dir));
        if (from.nlink > 2)
            --from.nlink;
        ++to.nlink;
    }
    c.ctime = t;
    from.mtime = from.ctime = to.mtime = to.ctime = t;
    UKFS_TRY(store_inode(m_fs, c));
    UKFS_TRY(store_inode(m_fs, to));
    if (to.ino != from.ino)
        UKFS_TRY(store());
    return {};
}

Result<std::size_t> FfsVnode::read(std::uint64_t offset, std::span<std::byte> dst) {
    if (m_inode.type == VType::dir)
        return Error::sys(EISDIR);
    if (m_inode.type != VType::reg)
        return Error::sys(EINVAL);
    return read_data(m_fs, m_inode, offset, dst);
}

Result<std::size_t> FfsVnode::write(std::uint64_t offset, std::span<const std::byte> src) {
    UKFS_TRY(writable(m_fs));
    if (m_inode.type == VType::dir)
        return Error::sys(EISDIR);
    if (m_inode.type != VType::reg)
        return Error::sys(EINVAL);
    auto done = write_data(m_fs, m_inode, offset, src);
    m_inode.mtime = m_inode.ctime = m_fs.now();
    UKFS_TRY(store());  // also after a failure: blocks may have been mapped before it
    return done;
}

Result<std::string> FfsVnode::readlink() {
    if (m_inode.type != VType::lnk)
        return Error::sys(EINVAL);
    return read_symlink(m_fs, m_inode);
}

}  // namespace uk::ffs
