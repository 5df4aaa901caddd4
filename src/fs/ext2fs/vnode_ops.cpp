// ext2fs vnode operations (see vnode_ops.hpp). Attribute facts: kernel ext4
// inodes.rst (i_links_count with dir_nlink, device numbers in i_block); flag
// mapping after NetBSD's ext2fs_vnops.c (EXT2_IMMUTABLE -> SF_IMMUTABLE,
// EXT2_APPEND -> SF_APPEND, EXT2_NODUMP -> UF_NODUMP).
#include "fs/ext2fs/vnode_ops.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include <sys/sysmacros.h>

#include <ukfs/netbsd.h>

#include "fs/ext2fs/bmap.hpp"
#include "fs/ext2fs/data.hpp"
#include "fs/ext2fs/dir.hpp"
#include "fs/ext2fs/xattr.hpp"

namespace uk::ext2fs {

namespace {

constexpr std::uint16_t link_max = 65000;  // EXT4_LINK_MAX

Ext2Vnode& ext2(vfs::Vnode& v) {
    return static_cast<Ext2Vnode&>(v);
}

Result<void> writable(const Ext2Fs& fs) {
    if (fs.read_only())
        return Error::sys(EROFS);
    return {};
}

// dir_nlink: a directory with more than link_max subdirectories counts 1.
void add_dir_link(const Geometry& g, InodeData& dir) {
    if (dir.links == 1 || dir.links >= link_max - 1) {
        if (g.has_ro_compat(ro_compat_dir_nlink))
            dir.links = 1;
        return;
    }
    ++dir.links;
}

void drop_dir_link(InodeData& dir) {
    if (dir.links > 2)
        --dir.links;
}

std::uint16_t ifmt(VType t) {
    return static_cast<std::uint16_t>(vfs::vtype_to_ifmt(t));
}

// A device number in i_block: the old 8:8 form in word 0 when it fits, else the
// new one in word 1 (as the kernel's ext4_set_inode_... old_encode_dev /
// new_encode_dev).
void encode_rdev(InodeData& n, std::uint64_t rdev) {
    const std::uint32_t ma = major(rdev), mi = minor(rdev);
    le32 w;
    if (ma < 256 && mi < 256) {
        w.set(ma << 8 | mi);
        std::memcpy(n.i_block.data(), &w, 4);
    } else {
        w.set((mi & 0xFF) | (ma & 0xFFF) << 8 | (mi & ~0xFFu) << 12);
        std::memcpy(n.i_block.data() + 4, &w, 4);
    }
}

bool has_blocks(const InodeData& n) {
    if (n.inline_data())
        return false;
    if (n.type == VType::reg || n.type == VType::dir)
        return true;
    return n.type == VType::lnk && !n.fast_symlink();
}

// A new node's contents: a directory's first block, a symlink's target, a device number.
Result<void> fill_node(Ext2Fs& fs, InodeData& child, const vfs::NewNode& spec, std::uint32_t parent,
                       bool fast_link, std::string_view target) {
    if (spec.type == VType::chr || spec.type == VType::blk)
        encode_rdev(child, spec.rdev);
    if (spec.type == VType::dir) {
        child.links = 2;
        UKFS_TRY(dir_init(fs, child, parent));
    }
    if (fast_link) {
        std::memcpy(child.i_block.data(), target.data(), target.size());
        child.size = target.size();
    } else if (spec.type == VType::lnk) {
        const auto bytes = std::as_bytes(std::span(target));
        const std::size_t n = UKFS_TRY(write_data(fs, child, 0, bytes));
        if (n != bytes.size())
            return Error::sys(ENOSPC);
    }
    return {};
}

}  // namespace

Result<void> release_inode(Ext2Fs& fs, InodeData& inode) {
    if (has_blocks(inode))
        UKFS_TRY(truncate_blocks(fs, inode, 0));
    UKFS_TRY(release_xattr_block(fs, inode));
    inode.size = 0;
    inode.dtime = static_cast<std::uint32_t>(fs.now().tv_sec);
    inode.links = 0;
    UKFS_TRY(store_inode(fs, inode));
    return fs.free_inode(inode.ino, inode.type == VType::dir);
}

Result<std::uint32_t> chflags_to_inode_flags(std::uint32_t flags, std::uint32_t i_flags) {
    constexpr std::uint32_t stored =
        UF_IMMUTABLE | SF_IMMUTABLE | UF_APPEND | SF_APPEND | UF_NODUMP;
    if ((flags & ~stored) != 0)
        return Error::sys(EOPNOTSUPP, "ext2fs: only the immutable, append and nodump flags "
                                      "can be stored");
    std::uint32_t out = i_flags & ~(inode_immutable_fl | inode_append_fl | inode_nodump_fl);
    if ((flags & (UF_IMMUTABLE | SF_IMMUTABLE)) != 0)
        out |= inode_immutable_fl;
    if ((flags & (UF_APPEND | SF_APPEND)) != 0)
        out |= inode_append_fl;
    if ((flags & UF_NODUMP) != 0)
        out |= inode_nodump_fl;
    return out;
}

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

Result<void> Ext2Vnode::store() {
    return store_inode(m_fs, m_inode);
}

Result<void> Ext2Vnode::setattr(const vfs::SetAttr& c) {
    UKFS_TRY(writable(m_fs));
    InodeData& n = m_inode;
    if (c.size) {
        if (n.type == VType::dir)
            return Error::sys(EISDIR);
        if (n.type != VType::reg)
            return Error::sys(EINVAL, "ext2fs: only a regular file's size can change");
        if (*c.size != n.size) {
            UKFS_TRY(resize(m_fs, n, *c.size));
            n.mtime = m_fs.now();
        }
    }
    if (c.flags)
        n.flags = UKFS_TRY(chflags_to_inode_flags(*c.flags, n.flags));
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
    if (c.birthtime)
        n.crtime = *c.birthtime;
    n.ctime = m_fs.now();
    return store();
}

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

Result<InodeNo> Ext2Vnode::make_node(std::string_view name, const vfs::NewNode& spec,
                                     std::string_view target) {
    UKFS_TRY(writable(m_fs));
    const Geometry& g = m_fs.geometry();
    InodeData& dir = m_inode;
    if (dir.type != VType::dir)
        return Error::sys(ENOTDIR);
    if (name.size() > name_max)
        return Error::sys(ENAMETOOLONG);
    if (dir.links == 0)
        return Error::sys(ENOENT, "ext2fs: the directory was removed");
    const bool is_dir = spec.type == VType::dir;
    if (is_dir && dir.links >= link_max - 1 && !g.has_ro_compat(ro_compat_dir_nlink))
        return Error::sys(EMLINK);
    const bool fast_link = spec.type == VType::lnk && target.size() < i_block_bytes;
    const bool mapped =
        spec.type == VType::reg || is_dir || (spec.type == VType::lnk && !fast_link);
    const std::uint32_t ino = UKFS_TRY(m_fs.alloc_inode(dir.ino, is_dir));
    const auto mode = static_cast<std::uint16_t>(ifmt(spec.type) | (spec.mode & 07777u));
    auto made =
        new_inode(m_fs, ino, mode, spec.uid, spec.gid, mapped && g.has_incompat(incompat_extents));
    if (!made) {
        (void)m_fs.free_inode(ino, is_dir);
        return made.error();
    }
    InodeData& child = *made;
    if (auto filled = fill_node(m_fs, child, spec, dir.ino, fast_link, target); !filled) {
        (void)release_inode(m_fs, child);  // give back the inode and any block it took
        return filled.error();
    }
    UKFS_TRY(store_inode(m_fs, child));
    m_fs.cache().barrier();  // the node is complete before an entry names it
    UKFS_TRY(dir_add(m_fs, dir, name, ino, spec.type));
    if (is_dir)
        add_dir_link(g, dir);
    dir.mtime = dir.ctime = child.ctime;
    UKFS_TRY(store());
    return InodeNo{ino};
}

Result<InodeNo> Ext2Vnode::create(std::string_view name, const vfs::NewNode& spec) {
    if (spec.type == VType::lnk || spec.type == VType::none)
        return Error::sys(EINVAL);
    return make_node(name, spec, {});
}

Result<InodeNo> Ext2Vnode::symlink(std::string_view name, std::string_view target,
                                   const vfs::NewNode& spec) {
    if (target.empty() || target.size() > symlink_max)
        return Error::sys(target.empty() ? ENOENT : ENAMETOOLONG);
    vfs::NewNode node = spec;
    node.type = VType::lnk;
    node.mode = 0777;
    return make_node(name, node, target);
}

Result<void> Ext2Vnode::link(std::string_view name, vfs::Vnode& target) {
    UKFS_TRY(writable(m_fs));
    InodeData& t = ext2(target).inode();
    if (t.links >= link_max)
        return Error::sys(EMLINK);
    if (m_inode.links == 0)
        return Error::sys(ENOENT, "ext2fs: the directory was removed");
    ++t.links;
    t.ctime = m_fs.now();
    UKFS_TRY(store_inode(m_fs, t));
    m_fs.cache().barrier();
    UKFS_TRY(dir_add(m_fs, m_inode, name, t.ino, t.type));
    m_inode.mtime = m_inode.ctime = t.ctime;
    return store();
}

Result<void> Ext2Vnode::remove(std::string_view name, vfs::Vnode& child) {
    UKFS_TRY(writable(m_fs));
    InodeData& c = ext2(child).inode();
    UKFS_TRY(dir_remove(m_fs, m_inode, name));
    m_inode.mtime = m_inode.ctime = m_fs.now();
    UKFS_TRY(store());
    if (c.links > 0)
        --c.links;
    c.ctime = m_inode.ctime;
    return store_inode(m_fs, c);
}

Result<void> Ext2Vnode::rmdir(std::string_view name, vfs::Vnode& child) {
    UKFS_TRY(writable(m_fs));
    InodeData& c = ext2(child).inode();
    if (c.type != VType::dir)
        return Error::sys(ENOTDIR);
    if (!UKFS_TRY(dir_is_empty(m_fs, c)))
        return Error::sys(ENOTEMPTY);
    UKFS_TRY(dir_remove(m_fs, m_inode, name));
    drop_dir_link(m_inode);
    m_inode.mtime = m_inode.ctime = m_fs.now();
    UKFS_TRY(store());
    c.links = 0;
    c.ctime = m_inode.ctime;
    return store_inode(m_fs, c);
}

Result<void> Ext2Vnode::rename(std::string_view name, vfs::Vnode& child, vfs::Vnode& to_dir,
                               std::string_view to_name, vfs::Vnode* replaced) {
    UKFS_TRY(writable(m_fs));
    const Geometry& g = m_fs.geometry();
    InodeData& c = ext2(child).inode();
    InodeData& to = ext2(to_dir).inode();
    InodeData& from = m_inode;
    const bool moves_dir = c.type == VType::dir && to.ino != from.ino;
    if (replaced != nullptr) {
        InodeData& r = ext2(*replaced).inode();
        if (r.type == VType::dir && !UKFS_TRY(dir_is_empty(m_fs, r)))
            return Error::sys(ENOTEMPTY);
        UKFS_TRY(dir_retarget(m_fs, to, to_name, c.ino, c.type));
        if (r.type == VType::dir) {
            r.links = 0;
            drop_dir_link(to);
        } else if (r.links > 0) {
            --r.links;
        }
        r.ctime = m_fs.now();
        UKFS_TRY(store_inode(m_fs, r));
    } else {
        UKFS_TRY(dir_add(m_fs, to, to_name, c.ino, c.type));
    }
    UKFS_TRY(dir_remove(m_fs, from, name));
    if (moves_dir) {
        UKFS_TRY(dir_retarget(m_fs, c, "..", to.ino, VType::dir));
        drop_dir_link(from);
        add_dir_link(g, to);
    }
    const timespec t = m_fs.now();
    c.ctime = t;
    from.mtime = from.ctime = to.mtime = to.ctime = t;
    UKFS_TRY(store_inode(m_fs, c));
    UKFS_TRY(store_inode(m_fs, to));
    if (to.ino != from.ino)
        UKFS_TRY(store());
    return {};
}

Result<std::size_t> Ext2Vnode::read(std::uint64_t offset, std::span<std::byte> dst) {
    if (m_inode.type == VType::dir)
        return Error::sys(EISDIR);
    if (m_inode.type != VType::reg)
        return Error::sys(EINVAL, "ext2fs: read of a node that is not a regular file");
    return read_data(m_fs, m_inode, offset, dst);
}

Result<std::size_t> Ext2Vnode::write(std::uint64_t offset, std::span<const std::byte> src) {
    UKFS_TRY(writable(m_fs));
    if (m_inode.type == VType::dir)
        return Error::sys(EISDIR);
    if (m_inode.type != VType::reg)
        return Error::sys(EINVAL, "ext2fs: write to a node that is not a regular file");
    auto done = write_data(m_fs, m_inode, offset, src);
    m_inode.mtime = m_inode.ctime = m_fs.now();
    UKFS_TRY(store());  // also after a failure: blocks may have been mapped before it
    return done;
}

Result<std::string> Ext2Vnode::readlink() {
    if (m_inode.type != VType::lnk)
        return Error::sys(EINVAL);
    return read_symlink(m_fs, m_inode);
}

}  // namespace uk::ext2fs
