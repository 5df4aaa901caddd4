// tmpfs vnode operations on one node: attributes, lookup, readdir, read, write, readlink.
// Time rules are POSIX's (XBD 4.9, "File Times Update"); flag rules NetBSD tmpfs_vnops.c's.
#include "fs/tmpfs/vnode_ops.hpp"

#include <cerrno>

#include "base/time.hpp"

namespace uk::tmpfs {

Result<void> check_name(std::string_view name) {
    if (name.size() > name_max)
        return Error::sys(ENAMETOOLONG);
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos)
        return Error::sys(EINVAL, "tmpfs: not a single path component");
    return {};
}

Result<void> require_dir(const Node& node) {
    if (node.type != VType::dir)
        return Error::sys(ENOTDIR);
    return {};
}

Result<vfs::Attr> TmpfsVnode::getattr() {
    return m_node->attr();
}

namespace {

bool only_flags(const vfs::SetAttr& c) {
    return !c.mode && !c.uid && !c.gid && !c.size && !c.atime && !c.mtime && !c.birthtime;
}

// Whether a size change applies to this type: EISDIR for a directory, EINVAL for a symlink;
// devices, FIFOs and sockets ignore it (NetBSD tmpfs_chsize).
Result<bool> size_applies(const Node& node, std::uint64_t size) {
    switch (node.type) {
    case VType::reg:
        if (size > max_file_size)
            return Error::sys(EFBIG);
        return true;
    case VType::dir:
        return Error::sys(EISDIR);
    case VType::lnk:
        return Error::sys(EINVAL);
    default:
        return false;
    }
}

}  // namespace

// Check everything first, then change: a failing setattr changes nothing.
Result<void> TmpfsVnode::setattr(const vfs::SetAttr& c) {
    UKFS_TRY(m_fs.check_writable());
    Node& n = *m_node;
    if (n.frozen() && !only_flags(c))
        return Error::sys(EPERM, "tmpfs: the node is immutable or append-only");
    const bool resize = c.size && UKFS_TRY(size_applies(n, *c.size));

    const timespec t = now();
    if (c.flags)
        n.flags = *c.flags;
    if (c.mode)
        n.mode = *c.mode & 07777;
    if (c.uid)
        n.uid = *c.uid;
    if (c.gid)
        n.gid = *c.gid;
    if (resize && *c.size != n.file.size()) {
        n.file.resize(*c.size, m_fs.pages());
        n.mtime = t;
    }
    if (c.atime)
        n.set_atime(*c.atime);
    if (c.mtime)
        n.mtime = *c.mtime;
    if (c.birthtime)
        n.birthtime = *c.birthtime;
    n.ctime = t;
    return {};
}

Result<InodeNo> TmpfsVnode::lookup(std::string_view name) {
    const Node& n = *m_node;
    UKFS_TRY(require_dir(n));
    if (name.size() > name_max)
        return Error::sys(ENAMETOOLONG);
    if (name == ".")
        return n.ino;
    if (name == "..")
        return n.dir.parent;
    const DirSlot* slot = n.dir.find(name);
    if (slot == nullptr)
        return Error::sys(ENOENT);
    return slot->ino;
}

// Cookies: 0 is ".", 1 is "..", and each entry resumes at its own cookie (DirData).
Result<void> TmpfsVnode::readdir(std::uint64_t cookie, const vfs::DirVisitor& visit) {
    Node& n = *m_node;
    UKFS_TRY(require_dir(n));
    m_fs.accessed(n);
    if (cookie == DirData::cookie_dot) {
        if (!visit(vfs::DirEntry{n.ino, VType::dir, "."}, DirData::cookie_dotdot))
            return {};
        cookie = DirData::cookie_dotdot;
    }
    if (cookie == DirData::cookie_dotdot) {
        if (!visit(vfs::DirEntry{n.dir.parent, VType::dir, ".."}, DirData::first_cookie))
            return {};
        cookie = DirData::first_cookie;
    }
    n.dir.list(cookie, [&](std::string_view name, const DirSlot& slot) {
        return visit(vfs::DirEntry{slot.ino, slot.type, name}, slot.cookie + 1);
    });
    return {};
}

Result<std::size_t> TmpfsVnode::read(std::uint64_t offset, std::span<std::byte> dst) {
    Node& n = *m_node;
    if (n.type == VType::dir)
        return Error::sys(EISDIR);
    if (n.type != VType::reg)
        return Error::sys(EINVAL, "tmpfs: read of a node that is not a regular file");
    const std::size_t got = n.file.read(offset, dst);
    if (!dst.empty())
        m_fs.accessed(n);
    return got;
}

Result<std::size_t> TmpfsVnode::write(std::uint64_t offset, std::span<const std::byte> src) {
    UKFS_TRY(m_fs.check_writable());
    Node& n = *m_node;
    if (n.type == VType::dir)
        return Error::sys(EISDIR);
    if (n.type != VType::reg)
        return Error::sys(EINVAL, "tmpfs: write to a node that is not a regular file");
    if (n.immutable())
        return Error::sys(EPERM, "tmpfs: the file is immutable");
    if (n.append_only() && offset != n.file.size())
        return Error::sys(EPERM, "tmpfs: the file is append-only");
    if (src.empty())
        return std::size_t{0};
    const std::size_t done = UKFS_TRY(n.file.write(offset, src, m_fs.pages()));
    n.modified(now());
    return done;
}

Result<std::string> TmpfsVnode::readlink() {
    Node& n = *m_node;
    if (n.type != VType::lnk)
        return Error::sys(EINVAL);
    m_fs.accessed(n);
    return n.target;
}

}  // namespace uk::tmpfs
