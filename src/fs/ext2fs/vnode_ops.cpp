// ext2fs vnode operations (see vnode_ops.hpp). Attribute facts: kernel ext4 inodes.rst
// (i_links_count with dir_nlink, device numbers in i_block); flag mapping after NetBSD's
// ext2fs_vnops.c (EXT2_IMMUTABLE -> SF_IMMUTABLE, EXT2_APPEND -> SF_APPEND,
// EXT2_NODUMP -> UF_NODUMP).
#include "fs/ext2fs/vnode_ops.hpp"

#include <cerrno>

#include <sys/sysmacros.h>

#include <ukfs/netbsd.h>

#include "fs/ext2fs/data.hpp"
#include "fs/ext2fs/dir.hpp"

namespace uk::ext2fs {

namespace {

Error read_only() { return Error::sys(EROFS, "ext2fs: the driver does not write yet"); }

}  // namespace

std::uint32_t inode_flags_to_chflags(std::uint32_t f) {
    std::uint32_t out = 0;
    if ((f & inode_immutable_fl) != 0)
        out |= SF_IMMUTABLE;
    if ((f & inode_append_fl) != 0)
        out |= SF_APPEND;
    if ((f & inode_nodump_fl) != 0)
        out |= UF_NODUMP;
    return out;
}

std::uint64_t decode_rdev(const InodeData& inode) {
    const std::uint32_t old = inode.i_block_word(0);
    if (old != 0)
        return makedev((old >> 8) & 0xFF, old & 0xFF);
    const std::uint32_t neu = inode.i_block_word(1);
    return makedev((neu & 0xFFF00) >> 8, (neu & 0xFF) | ((neu >> 12) & 0xFFF00));
}

Result<vfs::Attr> Ext2Vnode::getattr() {
    const InodeData& n = m_inode;
    vfs::Attr a;
    a.type = n.type;
    a.mode = n.mode & 07777;
    a.nlink = n.links;  // with dir_nlink, 1 on a directory means "too many to count"
    a.uid = n.uid;
    a.gid = n.gid;
    a.ino = n.ino;
    a.size = n.size;
    a.blocks = n.blocks_512;
    a.blksize = m_fs.geometry().block_size;
    if (n.type == VType::chr || n.type == VType::blk)
        a.rdev = decode_rdev(n);
    a.atime = n.atime;
    a.mtime = n.mtime;
    a.ctime = n.ctime;
    a.birthtime = n.crtime;
    a.flags = inode_flags_to_chflags(n.flags);
    a.gen = n.generation;
    return a;
}

Result<void> Ext2Vnode::setattr(const vfs::SetAttr&) { return read_only(); }

Result<InodeNo> Ext2Vnode::lookup(std::string_view name) {
    if (m_inode.type != VType::dir)
        return Error::sys(ENOTDIR);
    if (name.size() > name_max)
        return Error::sys(ENAMETOOLONG);
    return dir_lookup(m_fs, m_inode, name);
}

Result<void> Ext2Vnode::readdir(std::uint64_t cookie, const vfs::DirVisitor& visit) {
    if (m_inode.type != VType::dir)
        return Error::sys(ENOTDIR);
    return dir_list(m_fs, m_inode, cookie, visit);
}

Result<InodeNo> Ext2Vnode::create(std::string_view, const vfs::NewNode&) { return read_only(); }
Result<InodeNo> Ext2Vnode::symlink(std::string_view, std::string_view, const vfs::NewNode&) {
    return read_only();
}
Result<void> Ext2Vnode::link(std::string_view, vfs::Vnode&) { return read_only(); }
Result<void> Ext2Vnode::remove(std::string_view, vfs::Vnode&) { return read_only(); }
Result<void> Ext2Vnode::rmdir(std::string_view, vfs::Vnode&) { return read_only(); }
Result<void> Ext2Vnode::rename(std::string_view, vfs::Vnode&, vfs::Vnode&, std::string_view,
                               vfs::Vnode*) {
    return read_only();
}

Result<std::size_t> Ext2Vnode::read(std::uint64_t offset, std::span<std::byte> dst) {
    if (m_inode.type == VType::dir)
        return Error::sys(EISDIR);
    if (m_inode.type != VType::reg)
        return Error::sys(EINVAL, "ext2fs: read of a node that is not a regular file");
    return read_data(m_fs, m_inode, offset, dst);
}

Result<std::size_t> Ext2Vnode::write(std::uint64_t, std::span<const std::byte>) {
    return read_only();
}

Result<std::string> Ext2Vnode::readlink() {
    if (m_inode.type != VType::lnk)
        return Error::sys(EINVAL);
    return read_symlink(m_fs, m_inode);
}

}  // namespace uk::ext2fs
