// tmpfs nodes: attributes as the VFS sees them.
#include "fs/tmpfs/node.hpp"

namespace uk::tmpfs {

timespec Node::atime() const {
    std::lock_guard guard(m_atime_lock);
    return m_atime;
}

void Node::set_atime(timespec t) {
    std::lock_guard guard(m_atime_lock);
    m_atime = t;
}

vfs::Attr Node::attr() const {
    vfs::Attr a;
    a.type = type;
    a.mode = mode;
    a.nlink = nlink;
    a.uid = uid;
    a.gid = gid;
    a.ino = ino;
    a.blksize = page_size;
    a.rdev = rdev;
    a.atime = atime();
    a.mtime = mtime;
    a.ctime = ctime;
    a.birthtime = birthtime;
    a.flags = flags;
    a.gen = gen;
    switch (type) {
    case VType::reg:
        a.size = file.size();
        a.blocks = file.page_count() * (page_size / 512);
        break;
    case VType::dir:
        a.size = dir.count() * dirent_size;  // NetBSD: one struct tmpfs_dirent per entry
        break;
    case VType::lnk:
        a.size = target.size();
        break;
    default:
        break;
    }
    return a;
}

}  // namespace uk::tmpfs
