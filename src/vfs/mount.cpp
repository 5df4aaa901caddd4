// A mount's life, reading operations and descriptors.
#include "vfs/mount.hpp"

#include <fcntl.h>

#include <mutex>

#include "base/time.hpp"

namespace uk::vfs {

namespace {

using Shared = std::shared_lock<std::shared_mutex>;
using Exclusive = std::unique_lock<std::shared_mutex>;

// A write into a frozen file (vfs/cred.hpp): never into an immutable one, only at the end of an
// append-only one.
Result<void> check_write_at(Vnode& node, std::uint64_t off) {
    const Attr a = UKFS_TRY(node.getattr());
    if (is_immutable(a) || (is_append_only(a) && off != a.size))
        return Error::sys(EPERM);
    return {};
}

Result<void> check_regular_for_io(const Vnode& node) {
    switch (node.type()) {
    case VType::reg: return {};
    case VType::dir: return Error::sys(EISDIR);
    case VType::lnk: return Error::sys(ELOOP);
    default: return Error::sys(ENXIO);  // no device or pipe behind an image's node
    }
}

}  // namespace

Mount::Mount(std::unique_ptr<FileSystem> fs, std::string type, int flags,
             std::unique_ptr<MountResources> resources)
    : m_fs(std::move(fs)), m_type(std::move(type)), m_flags(flags),
      m_resources(std::move(resources)), m_vnodes(*m_fs) {}

Result<std::unique_ptr<Mount>> Mount::create(std::unique_ptr<FileSystem> fs, std::string type,
                                             int flags, std::unique_ptr<MountResources> resources) {
    std::unique_ptr<Mount> m(
        new Mount(std::move(fs), std::move(type), flags, std::move(resources)));
    m->m_root = UKFS_TRY(m->m_vnodes.get(m->m_fs->root()));
    if (m->m_root->type() != VType::dir)
        return Error::corrupt(m->m_type, "the root inode is not a directory");
    m->m_cwd = m->m_root;
    return m;
}

Mount::~Mount() {
    // The owner unmounts first; this only lets go of what is left (after a failed unmount).
    m_fds.take_all();
    m_cwd.reset();
    m_root.reset();
    (void)m_vnodes.drop_all();  // nothing to report to from a destructor
}

Result<void> Mount::check_alive() const {
    if (m_dead)
        return Error::sys(EIO, "the file system has been unmounted");
    return {};
}

Result<void> Mount::may(Vnode& node, unsigned want) {
    if (m_cred.is_root() && (!(want & access_exec) || node.type() == VType::dir))
        return {};
    return check_access(UKFS_TRY(node.getattr()), m_cred, want);
}

Result<void> Mount::check_writable() const {
    UKFS_TRY(check_alive());
    if (m_fs->read_only())
        return Error::sys(EROFS);
    return {};
}

void Mount::set_cred(Cred cred) {
    Exclusive lock(m_lock);
    m_cred = std::move(cred);
    m_fs->set_caller_root(m_cred.is_root());
}

Cred Mount::cred() const {
    Shared lock(m_lock);
    return m_cred;
}

Result<Attr> Mount::stat(std::string_view path, Follow follow) {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    VnodeRef node = UKFS_TRY(resolve(path, follow));
    return node->getattr();
}

Result<void> Mount::chdir(std::string_view path) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_alive());
    VnodeRef node = UKFS_TRY(resolve(path, Follow::yes));
    if (node->type() != VType::dir)
        return Error::sys(ENOTDIR);
    UKFS_TRY(may(*node, access_exec));
    m_cwd = std::move(node);
    return {};
}

Result<std::string> Mount::readlink(std::string_view path) {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    VnodeRef node = UKFS_TRY(resolve(path, Follow::no));
    if (node->type() != VType::lnk)
        return Error::sys(EINVAL);
    return node->readlink();
}

Result<void> Mount::readdir(std::string_view path, std::uint64_t cookie, const DirVisitor& visit) {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    VnodeRef node = UKFS_TRY(resolve(path, Follow::yes));
    if (node->type() != VType::dir)
        return Error::sys(ENOTDIR);
    UKFS_TRY(may(*node, access_read));
    return node->readdir(cookie, visit);
}

Result<std::size_t> Mount::read(std::string_view path, std::uint64_t off,
                                std::span<std::byte> dst) {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    VnodeRef node = UKFS_TRY(resolve(path, Follow::yes));
    UKFS_TRY(check_regular_for_io(*node));
    UKFS_TRY(may(*node, access_read));
    return node->read(off, dst);
}

Result<std::size_t> Mount::write(std::string_view path, std::uint64_t off,
                                 std::span<const std::byte> src) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    VnodeRef node = UKFS_TRY(resolve(path, Follow::yes));
    UKFS_TRY(check_regular_for_io(*node));
    UKFS_TRY(may(*node, access_write));
    UKFS_TRY(check_write_at(*node, off));
    UKFS_TRY(clear_setid_on_write(*node));
    return node->write(off, src);
}

// A write by anyone but root clears the set-user-ID and set-group-ID bits (POSIX write(2):
// "may"; NetBSD's ufs and tmpfs do).
Result<void> Mount::clear_setid_on_write(Vnode& node) {
    if (m_cred.is_root())
        return {};
    Attr a = UKFS_TRY(node.getattr());
    if ((a.mode & 06000) == 0)
        return {};
    SetAttr c;
    c.mode = a.mode & ~06000u;
    return node.setattr(c);
}

Result<void> Mount::truncate(std::string_view path, std::uint64_t size) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    VnodeRef node = UKFS_TRY(resolve(path, Follow::yes));
    UKFS_TRY(check_regular_for_io(*node));
    UKFS_TRY(may(*node, access_write));
    UKFS_TRY(check_not_frozen(UKFS_TRY(node->getattr())));
    SetAttr changes;
    changes.size = size;
    return node->setattr(changes);
}

Result<int> Mount::open(std::string_view path, int flags, std::uint32_t mode) {
    const int accmode = flags & O_ACCMODE;
    const bool writing = accmode == O_WRONLY || accmode == O_RDWR;
    if (accmode == O_ACCMODE)
        return Error::sys(EINVAL);
    Exclusive lock(m_lock);  // opening may create or truncate; it is cheap either way
    UKFS_TRY(check_alive());
    if ((writing || (flags & (O_CREAT | O_TRUNC))) && m_fs->read_only())
        return Error::sys(EROFS);
    VnodeRef node;
    if (flags & O_CREAT) {
        Parent p = UKFS_TRY(resolve_parent(path));
        if (p.name.empty() || p.name == "." || p.name == "..")
            return Error::sys(EISDIR);
        node = UKFS_TRY(child_or_null(p));
        if (node && (flags & O_EXCL))
            return Error::sys(EEXIST);
        if (!node) {
            InodeNo ino = UKFS_TRY(create_in(p, NewNode{VType::reg, mode & 07777, 0, 0, 0}));
            node = UKFS_TRY(m_vnodes.get(ino));
        } else if (node->type() == VType::lnk && !(flags & O_NOFOLLOW)) {
            node = UKFS_TRY(resolve(path, Follow::yes));
        }
    } else {
        node = UKFS_TRY(resolve(path, (flags & O_NOFOLLOW) ? Follow::no : Follow::yes));
    }
    if (node->type() == VType::lnk)
        return Error::sys(ELOOP);
    if ((flags & O_DIRECTORY) && node->type() != VType::dir)
        return Error::sys(ENOTDIR);
    if (node->type() == VType::dir && writing)
        return Error::sys(EISDIR);
    Attr attr = UKFS_TRY(node->getattr());
    unsigned want = (accmode != O_WRONLY ? access_read : 0u) | (writing ? access_write : 0u);
    UKFS_TRY(check_access(attr, m_cred, want));
    // open(2) on NetBSD: no writing an immutable file, only appending to an append-only one.
    if (writing && (is_immutable(attr) || (is_append_only(attr) && !(flags & O_APPEND))))
        return Error::sys(EPERM);
    if ((flags & O_TRUNC) && writing && is_append_only(attr))
        return Error::sys(EPERM);
    if ((flags & O_TRUNC) && writing && node->type() == VType::reg && attr.size != 0) {
        SetAttr changes;
        changes.size = 0;
        UKFS_TRY(node->setattr(changes));
    }
    return m_fds.add(OpenFile{std::move(node), flags});
}

Result<std::size_t> Mount::read_fd(int fd, std::uint64_t off, std::span<std::byte> dst) {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    OpenFile f = UKFS_TRY(m_fds.get(fd));
    if ((f.flags & O_ACCMODE) == O_WRONLY)
        return Error::sys(EBADF);
    UKFS_TRY(check_regular_for_io(*f.node));
    return f.node->read(off, dst);
}

Result<std::size_t> Mount::write_fd(int fd, std::uint64_t off, std::span<const std::byte> src,
                                    bool sync) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    OpenFile f = UKFS_TRY(m_fds.get(fd));
    if ((f.flags & O_ACCMODE) == O_RDONLY)
        return Error::sys(EBADF);
    UKFS_TRY(check_regular_for_io(*f.node));
    if (f.flags & O_APPEND)
        off = UKFS_TRY(f.node->getattr()).size;
    UKFS_TRY(check_write_at(*f.node, off));
    UKFS_TRY(clear_setid_on_write(*f.node));
    std::size_t n = UKFS_TRY(f.node->write(off, src));
    if (sync)
        UKFS_TRY(m_fs->sync());
    return n;
}

Result<Attr> Mount::fstat(int fd) {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    OpenFile f = UKFS_TRY(m_fds.get(fd));
    return f.node->getattr();
}

Result<void> Mount::truncate_fd(int fd, std::uint64_t size) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    OpenFile f = UKFS_TRY(m_fds.get(fd));
    if ((f.flags & O_ACCMODE) == O_RDONLY)
        return Error::sys(EINVAL);
    UKFS_TRY(check_regular_for_io(*f.node));
    UKFS_TRY(check_not_frozen(UKFS_TRY(f.node->getattr())));
    SetAttr changes;
    changes.size = size;
    return f.node->setattr(changes);
}

Result<void> Mount::readdir_fd(int fd, std::uint64_t cookie, const DirVisitor& visit) {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    OpenFile f = UKFS_TRY(m_fds.get(fd));
    if (f.node->type() != VType::dir)
        return Error::sys(ENOTDIR);
    return f.node->readdir(cookie, visit);
}

Result<void> Mount::close(int fd) {
    Exclusive lock(m_lock);
    OpenFile f = UKFS_TRY(m_fds.take(fd));
    InodeNo ino = f.node->ino();
    f.node.reset();
    if (m_dead)
        return {};
    return m_vnodes.release_if_unlinked(ino);
}

Result<StatFs> Mount::statfs() {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    return m_fs->statfs();
}

Result<std::vector<InfoField>> Mount::info() {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    return m_fs->info();
}

Result<void> Mount::sync_locked() {
    UKFS_TRY(check_alive());
    if (m_fs->read_only())
        return {};
    return m_fs->sync();
}

Result<void> Mount::sync() {
    Exclusive lock(m_lock);
    return sync_locked();
}

Result<void> Mount::unmount(bool force) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_alive());
    if (m_fds.count() != 0 && !force)
        return Error::sys(EBUSY, "files are open on the mount");
    m_fds.take_all();
    m_cwd.reset();
    m_root.reset();
    m_names.clear();
    auto dropped = m_vnodes.drop_all();
    m_dead = true;
    auto unmounted = m_fs->unmount();
    UKFS_TRY(std::move(dropped));
    return unmounted;
}

Result<void> Mount::release_without_unmount() {
    Exclusive lock(m_lock);
    UKFS_TRY(check_alive());
    auto synced = sync_locked();
    m_fds.take_all();
    m_cwd.reset();
    m_root.reset();
    m_names.clear();
    m_dead = true;
    return synced;
}

}  // namespace uk::vfs
