// Operations that change the name space or attributes: create, link, remove, rename, chmod...
// All run with the mount lock held exclusively; permission rules are POSIX's (4.5), the
// rename rules those of rename(2), and immutable and append-only nodes are kept so here, for
// every driver, as NetBSD's ufs does (vfs/cred.hpp).
#include <mutex>

#include "base/time.hpp"
#include "vfs/mount.hpp"

namespace uk::vfs {

namespace {

using Exclusive = std::unique_lock<std::shared_mutex>;

// mkdir "/", mkdir "a/." and friends: the last component names something that exists.
bool names_existing_dir(std::string_view name) {
    return name.empty() || name == "." || name == "..";
}

}  // namespace

Result<void> Mount::make_node(std::string_view path, const NewNode& proto) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    Parent p = UKFS_TRY(resolve_parent(path));
    if (names_existing_dir(p.name))
        return Error::sys(EEXIST);
    if (p.trailing_slash && proto.type != VType::dir)
        return Error::sys(ENOENT);
    if (UKFS_TRY(child_or_null(p)))
        return Error::sys(EEXIST);
    UKFS_TRY(create_in(p, proto));
    return {};
}

Result<InodeNo> Mount::create_in(Parent& p, const NewNode& proto) {
    Attr dir = UKFS_TRY(p.dir->getattr());
    if (is_immutable(dir))
        return Error::sys(EPERM);
    UKFS_TRY(check_access(dir, m_cred, access_write | access_exec));
    NewNode node = proto;
    node.uid = m_cred.uid;
    node.gid = dir.gid;  // BSD semantics: a new node takes its directory's group
    InodeNo ino = UKFS_TRY(p.dir->create(p.name, node));
    m_names.enter(p.dir->ino(), p.name, ino);
    return ino;
}

Result<void> Mount::create(std::string_view path, std::uint32_t mode, bool exclusive) {
    auto r = make_node(path, NewNode{VType::reg, mode & 07777, 0, 0, 0});
    if (!r && r.error().errnum() == EEXIST && !exclusive) {
        Attr a = UKFS_TRY(stat(path, Follow::yes));
        if (a.type == VType::reg)
            return {};
    }
    return r;
}

Result<void> Mount::mkdir(std::string_view path, std::uint32_t mode) {
    return make_node(path, NewNode{VType::dir, mode & 07777, 0, 0, 0});
}

Result<void> Mount::mknod(std::string_view path, std::uint32_t mode, std::uint64_t rdev) {
    VType t = ifmt_to_vtype(mode);
    if (t != VType::blk && t != VType::chr && t != VType::fifo && t != VType::sock &&
        t != VType::reg)
        return Error::sys(EINVAL);
    {
        std::shared_lock lock(m_lock);
        if ((t == VType::blk || t == VType::chr) && !m_cred.is_root())
            return Error::sys(EPERM);
    }
    return make_node(path, NewNode{t, mode & 07777, 0, 0, rdev});
}

Result<void> Mount::symlink(std::string_view target, std::string_view path) {
    if (target.size() >= max_path)
        return Error::sys(ENAMETOOLONG);
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    Parent p = UKFS_TRY(resolve_parent(path));
    if (names_existing_dir(p.name) || UKFS_TRY(child_or_null(p)))
        return Error::sys(EEXIST);
    if (p.trailing_slash)
        return Error::sys(ENOENT);
    Attr dir = UKFS_TRY(p.dir->getattr());
    if (is_immutable(dir))
        return Error::sys(EPERM);
    UKFS_TRY(check_access(dir, m_cred, access_write | access_exec));
    InodeNo ino =
        UKFS_TRY(p.dir->symlink(p.name, target, NewNode{VType::lnk, 0777, m_cred.uid, dir.gid, 0}));
    m_names.enter(p.dir->ino(), p.name, ino);
    return {};
}

Result<void> Mount::link(std::string_view existing, std::string_view path) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    VnodeRef target = UKFS_TRY(resolve(existing, Follow::no));  // link(2) on NetBSD: no follow
    if (target->type() == VType::dir)
        return Error::sys(EPERM);
    Parent p = UKFS_TRY(resolve_parent(path));
    if (names_existing_dir(p.name) || UKFS_TRY(child_or_null(p)))
        return Error::sys(EEXIST);
    if (p.trailing_slash)
        return Error::sys(ENOENT);
    UKFS_TRY(check_not_frozen(UKFS_TRY(target->getattr())));
    Attr dir = UKFS_TRY(p.dir->getattr());
    if (is_immutable(dir))
        return Error::sys(EPERM);
    UKFS_TRY(check_access(dir, m_cred, access_write | access_exec));
    UKFS_TRY(p.dir->link(p.name, *target));
    m_names.enter(p.dir->ino(), p.name, target->ino());
    return {};
}

// After a node lost a link: free it now if nothing holds it, or when its last user closes.
Result<void> Mount::after_unlink(Vnode& node) {
    Attr a = UKFS_TRY(node.getattr());
    if (a.nlink == 0)
        m_vnodes.add_orphan(node.ino());
    return {};
}

Result<void> Mount::remove(std::string_view path) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    Parent p = UKFS_TRY(resolve_parent(path));
    if (names_existing_dir(p.name))
        return Error::sys(p.name == "." ? EINVAL : EISDIR);
    VnodeRef child = UKFS_TRY(lookup_child(p.dir, p.name));
    if (child->type() == VType::dir)
        return Error::sys(EISDIR);  // NetBSD's unlink(2) says EPERM; remove(3) callers want EISDIR
    if (p.trailing_slash)
        return Error::sys(ENOTDIR);
    Attr dir = UKFS_TRY(p.dir->getattr());
    const Attr victim = UKFS_TRY(child->getattr());
    UKFS_TRY(check_not_frozen(dir));
    UKFS_TRY(check_not_frozen(victim));
    UKFS_TRY(check_access(dir, m_cred, access_write | access_exec));
    UKFS_TRY(check_sticky(dir, victim, m_cred));
    UKFS_TRY(p.dir->remove(p.name, *child));
    m_names.forget(p.dir->ino(), p.name);
    UKFS_TRY(after_unlink(*child));
    InodeNo ino = child->ino();
    child.reset();
    return m_vnodes.release_if_unlinked(ino);
}

Result<void> Mount::rmdir(std::string_view path) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    Parent p = UKFS_TRY(resolve_parent(path));
    if (p.name.empty())
        return Error::sys(EBUSY);  // the mount's root
    if (p.name == ".")
        return Error::sys(EINVAL);
    if (p.name == "..")
        return Error::sys(ENOTEMPTY);
    VnodeRef child = UKFS_TRY(lookup_child(p.dir, p.name));
    if (child->type() != VType::dir)
        return Error::sys(ENOTDIR);
    if (child->ino() == m_cwd->ino() && child->ino() != m_root->ino())
        m_cwd = m_root;  // as a process whose cwd is removed, keep working from somewhere sane
    Attr dir = UKFS_TRY(p.dir->getattr());
    const Attr victim = UKFS_TRY(child->getattr());
    UKFS_TRY(check_not_frozen(dir));
    UKFS_TRY(check_not_frozen(victim));
    UKFS_TRY(check_access(dir, m_cred, access_write | access_exec));
    UKFS_TRY(check_sticky(dir, victim, m_cred));
    UKFS_TRY(p.dir->rmdir(p.name, *child));
    m_names.forget(p.dir->ino(), p.name);
    m_names.forget(child->ino(), "..");
    UKFS_TRY(after_unlink(*child));
    InodeNo ino = child->ino();
    child.reset();
    return m_vnodes.release_if_unlinked(ino);
}

Result<void> Mount::rename(std::string_view from, std::string_view to) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    Parent src = UKFS_TRY(resolve_parent(from));
    Parent dst = UKFS_TRY(resolve_parent(to));
    if (names_existing_dir(src.name) || names_existing_dir(dst.name))
        return Error::sys(src.name.empty() || dst.name.empty() ? EBUSY : EINVAL);
    VnodeRef child = UKFS_TRY(lookup_child(src.dir, src.name));
    VnodeRef replaced = UKFS_TRY(child_or_null(dst));
    const bool is_dir = child->type() == VType::dir;
    if ((src.trailing_slash || dst.trailing_slash) && !is_dir)
        return Error::sys(ENOTDIR);
    if (replaced && replaced->ino() == child->ino())
        return {};  // two links to one node: POSIX says do nothing
    if (replaced) {
        if (is_dir && replaced->type() != VType::dir)
            return Error::sys(ENOTDIR);
        if (!is_dir && replaced->type() == VType::dir)
            return Error::sys(EISDIR);
        if (replaced->ino() == m_root->ino() || replaced->ino() == m_cwd->ino())
            return Error::sys(EBUSY);
    }
    if (is_dir && src.dir->ino() != dst.dir->ino() && UKFS_TRY(is_ancestor(*child, dst.dir)))
        return Error::sys(EINVAL);
    Attr sdir = UKFS_TRY(src.dir->getattr());
    Attr ddir = UKFS_TRY(dst.dir->getattr());
    const Attr moved = UKFS_TRY(child->getattr());
    UKFS_TRY(check_not_frozen(sdir));
    UKFS_TRY(check_not_frozen(moved));
    if (is_immutable(ddir))
        return Error::sys(EPERM);
    UKFS_TRY(check_access(sdir, m_cred, access_write | access_exec));
    UKFS_TRY(check_access(ddir, m_cred, access_write | access_exec));
    UKFS_TRY(check_sticky(sdir, moved, m_cred));
    if (replaced) {
        const Attr victim = UKFS_TRY(replaced->getattr());
        UKFS_TRY(check_not_frozen(ddir));
        UKFS_TRY(check_not_frozen(victim));
        UKFS_TRY(check_sticky(ddir, victim, m_cred));
    }
    if (is_dir && src.dir->ino() != dst.dir->ino())  // its ".." changes
        UKFS_TRY(may(*child, access_write));

    UKFS_TRY(src.dir->rename(src.name, *child, *dst.dir, dst.name, replaced.get()));
    m_names.forget(src.dir->ino(), src.name);
    m_names.forget(dst.dir->ino(), dst.name);
    m_names.forget(child->ino(), "..");
    m_names.enter(dst.dir->ino(), dst.name, child->ino());
    if (replaced) {
        UKFS_TRY(after_unlink(*replaced));
        InodeNo ino = replaced->ino();
        replaced.reset();
        UKFS_TRY(m_vnodes.release_if_unlinked(ino));
    }
    return {};
}

Result<void> Mount::set_attr(std::string_view path, Follow follow, const SetAttr& changes,
                             bool owner_only) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    VnodeRef node = UKFS_TRY(resolve(path, follow));
    Attr a = UKFS_TRY(node->getattr());
    UKFS_TRY(check_not_frozen(a));
    if (owner_only)
        UKFS_TRY(check_owner(a, m_cred));
    return node->setattr(changes);
}

Result<void> Mount::chmod(std::string_view path, std::uint32_t mode, Follow follow) {
    SetAttr c;
    c.mode = mode & 07777;
    return set_attr(path, follow, c, true);
}

Result<void> Mount::chown(std::string_view path, std::optional<std::uint32_t> uid,
                          std::optional<std::uint32_t> gid, Follow follow) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    VnodeRef node = UKFS_TRY(resolve(path, follow));
    Attr a = UKFS_TRY(node->getattr());
    UKFS_TRY(check_not_frozen(a));
    if (!m_cred.is_root()) {
        // The owner may give the file to one of its groups, nothing more (chown(2)).
        if (a.uid != m_cred.uid || (uid && *uid != a.uid) || (gid && !m_cred.in_group(*gid)))
            return Error::sys(EPERM);
    }
    SetAttr c;
    c.uid = uid;
    c.gid = gid;
    if (!m_cred.is_root() && node->type() != VType::dir && (a.mode & 06000))
        c.mode = a.mode & ~06000u;  // a non-root chown clears set-id bits
    return node->setattr(c);
}

Result<void> Mount::chflags(std::string_view path, std::uint32_t flags, Follow follow) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    VnodeRef node = UKFS_TRY(resolve(path, follow));
    Attr a = UKFS_TRY(node->getattr());
    // NetBSD's genfs_can_chflags, which ufs_setattr, ext2fs_setattr and tmpfs ask: only the
    // owner or root; only root changes a system (SF_*) flag; and the owner, if not root, changes
    // no flag of a character or block device.
    UKFS_TRY(check_owner(a, m_cred));
    constexpr std::uint32_t super_flags = 0xffff0000;  // SF_*: root only
    if (!m_cred.is_root() && ((a.flags ^ flags) & super_flags))
        return Error::sys(EPERM);
    if (!m_cred.is_root() && (a.type == VType::chr || a.type == VType::blk))
        return Error::sys(EPERM);
    SetAttr c;
    c.flags = flags;
    return node->setattr(c);
}

Result<void> Mount::utimes(std::string_view path, std::optional<timespec> atime,
                           std::optional<timespec> mtime, Follow follow) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    VnodeRef node = UKFS_TRY(resolve(path, follow));
    Attr a = UKFS_TRY(node->getattr());
    UKFS_TRY(check_not_frozen(a));
    if (atime && mtime) {
        UKFS_TRY(check_owner(a, m_cred));
    } else if (!m_cred.is_root() && a.uid != m_cred.uid) {
        UKFS_TRY(check_access(a, m_cred, access_write));  // "now" needs write access only
    }
    timespec t = m_clock.now();
    SetAttr c;
    c.atime = atime.value_or(t);
    c.mtime = mtime.value_or(t);
    return node->setattr(c);
}

}  // namespace uk::vfs
