// FFS vnode operations (see vnode_ops.hpp).
#include "fs/ffs/vnode_ops.hpp"

#include <cerrno>

#include <sys/sysmacros.h>

#include "fs/ffs/bmap.hpp"
#include "fs/ffs/dir.hpp"

namespace uk::ffs {

namespace {

Error read_only() {
    return Error::sys(EROFS, "ffs: the ffs driver is read-only in this version");
}

}  // namespace

std::uint64_t decode_rdev(std::uint32_t dev) {
    return makedev(netbsd_major(dev), netbsd_minor(dev));
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

Result<void> FfsVnode::setattr(const vfs::SetAttr&) {
    return read_only();
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

Result<InodeNo> FfsVnode::create(std::string_view, const vfs::NewNode&) {
    return read_only();
}

Result<InodeNo> FfsVnode::symlink(std::string_view, std::string_view, const vfs::NewNode&) {
    return read_only();
}

Result<void> FfsVnode::link(std::string_view, vfs::Vnode&) {
    return read_only();
}

Result<void> FfsVnode::remove(std::string_view, vfs::Vnode&) {
    return read_only();
}

Result<void> FfsVnode::rmdir(std::string_view, vfs::Vnode&) {
    return read_only();
}

Result<void> FfsVnode::rename(std::string_view, vfs::Vnode&, vfs::Vnode&, std::string_view,
                              vfs::Vnode*) {
    return read_only();
}

Result<std::size_t> FfsVnode::read(std::uint64_t offset, std::span<std::byte> dst) {
    if (m_inode.type == VType::dir)
        return Error::sys(EISDIR);
    if (m_inode.type != VType::reg)
        return Error::sys(EINVAL);
    return read_data(m_fs, m_inode, offset, dst);
}

Result<std::size_t> FfsVnode::write(std::uint64_t, std::span<const std::byte>) {
    return read_only();
}

Result<std::string> FfsVnode::readlink() {
    if (m_inode.type != VType::lnk)
        return Error::sys(EINVAL);
    return read_symlink(m_fs, m_inode);
}

}  // namespace uk::ffs
