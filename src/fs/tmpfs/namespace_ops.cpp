// tmpfs vnode operations that change directory entries: create, symlink, link, remove, rmdir,
// rename. The VFS has resolved the names and checked permissions and the POSIX rules it can
// see; the driver checks what only it knows (emptiness, flags, link counts) and keeps the
// tree consistent. Link counts: a directory has 2 + one per subdirectory. Flag rules follow
// NetBSD tmpfs_vnops.c: an immutable or append-only node is neither removed nor renamed, an
// immutable directory takes no new entries, an append-only one loses none.
#include <cerrno>

#include "base/time.hpp"
#include "fs/tmpfs/vnode_ops.hpp"

namespace uk::tmpfs {

Result<Node*> TmpfsVnode::peer(vfs::Vnode& other) const {
    auto* tv = dynamic_cast<TmpfsVnode*>(&other);
    if (tv == nullptr || &tv->fs() != &m_fs)
        return Error::sys(EXDEV);
    return &tv->node();
}

Result<Node*> TmpfsVnode::dir_for_insert(std::string_view name) {
    UKFS_TRY(m_fs.check_writable());
    Node& d = *m_node;
    UKFS_TRY(require_dir(d));
    UKFS_TRY(check_name(name));
    if (d.nlink == 0)
        return Error::sys(ENOENT, "tmpfs: the directory was removed");
    if (d.immutable())
        return Error::sys(EPERM, "tmpfs: the directory is immutable");
    if (d.dir.find(name) != nullptr)
        return Error::sys(EEXIST);
    return &d;
}

namespace {

bool creatable(VType t) {
    switch (t) {
    case VType::reg:
    case VType::dir:
    case VType::lnk:
    case VType::blk:
    case VType::chr:
    case VType::fifo:
    case VType::sock:
        return true;
    case VType::none:
        break;
    }
    return false;
}

}  // namespace

// A new node and its entry: the node's four times are now, and the directory's mtime and
// ctime.
Result<InodeNo> TmpfsVnode::make_entry(std::string_view name, const vfs::NewNode& spec,
                                       std::string_view target) {
    Node& d = *UKFS_TRY(dir_for_insert(name));
    if (!creatable(spec.type))
        return Error::sys(EINVAL, "tmpfs: no such node type");
    const bool is_dir = spec.type == VType::dir;
    if (is_dir && d.nlink >= link_max)
        return Error::sys(EMLINK);
    const timespec t = now();
    std::shared_ptr<Node> node = UKFS_TRY(m_fs.new_node(spec, t));
    try {
        node->target = target;
        d.dir.insert(name, node->ino, node->type);
    } catch (...) {
        m_fs.drop_new_node(*node);
        throw;
    }
    node->nlink = is_dir ? 2 : 1;
    if (is_dir) {
        node->dir.parent = d.ino;
        ++d.nlink;
    }
    d.modified(t);
    return node->ino;
}

Result<InodeNo> TmpfsVnode::create(std::string_view name, const vfs::NewNode& spec) {
    if (spec.type == VType::lnk)
        return Error::sys(EINVAL, "tmpfs: a symlink needs a target");
    return make_entry(name, spec, {});
}

Result<InodeNo> TmpfsVnode::symlink(std::string_view name, std::string_view target,
                                    const vfs::NewNode& spec) {
    if (target.size() > symlink_max)
        return Error::sys(ENAMETOOLONG);
    vfs::NewNode s = spec;
    s.type = VType::lnk;
    return make_entry(name, s, target);
}

Result<void> TmpfsVnode::link(std::string_view name, vfs::Vnode& target) {
    Node& d = *UKFS_TRY(dir_for_insert(name));
    Node& n = *UKFS_TRY(peer(target));
    if (n.type == VType::dir)
        return Error::sys(EPERM, "tmpfs: hard link to a directory");
    if (n.frozen())
        return Error::sys(EPERM, "tmpfs: the node is immutable or append-only");
    if (n.nlink == 0)
        return Error::sys(ENOENT);
    if (n.nlink >= link_max)
        return Error::sys(EMLINK);
    d.dir.insert(name, n.ino, n.type);
    ++n.nlink;
    const timespec t = now();
    n.ctime = t;
    d.modified(t);
    return {};
}

namespace {

// The entry `name` of `dir` names `child`: the VFS looked it up under the same lock.
Result<void> check_entry(const Node& dir, std::string_view name, const Node& child) {
    const DirSlot* slot = dir.dir.find(name);
    if (slot == nullptr || slot->ino != child.ino)
        return Error::sys(ENOENT);
    return {};
}

// An entry of `dir` naming `child` may go.
Result<void> check_removable(const Node& dir, const Node& child) {
    if (child.frozen() || dir.frozen())
        return Error::sys(EPERM, "tmpfs: immutable or append-only");
    return {};
}

}  // namespace

Result<void> TmpfsVnode::remove(std::string_view name, vfs::Vnode& child) {
    UKFS_TRY(m_fs.check_writable());
    Node& d = *m_node;
    UKFS_TRY(require_dir(d));
    Node& c = *UKFS_TRY(peer(child));
    UKFS_TRY(check_entry(d, name, c));
    if (c.type == VType::dir)
        return Error::sys(EPERM, "tmpfs: remove of a directory");
    UKFS_TRY(check_removable(d, c));
    d.dir.erase(name);
    --c.nlink;
    const timespec t = now();
    c.ctime = t;
    d.modified(t);
    return {};
}

Result<void> TmpfsVnode::rmdir(std::string_view name, vfs::Vnode& child) {
    UKFS_TRY(m_fs.check_writable());
    Node& d = *m_node;
    UKFS_TRY(require_dir(d));
    Node& c = *UKFS_TRY(peer(child));
    if (c.type != VType::dir)
        return Error::sys(ENOTDIR);
    UKFS_TRY(check_entry(d, name, c));
    if (!c.dir.empty())
        return Error::sys(ENOTEMPTY);
    UKFS_TRY(check_removable(d, c));
    d.dir.erase(name);
    c.nlink = 0;
    --d.nlink;
    const timespec t = now();
    c.ctime = t;
    d.modified(t);
    return {};
}

// `to` is neither `child` nor below it: walk up from `to` to the root.
Result<void> TmpfsVnode::check_not_below(const Node& child, const Node& to) const {
    InodeNo at = to.ino;
    for (;;) {
        if (at == child.ino)
            return Error::sys(EINVAL, "tmpfs: a directory cannot move below itself");
        if (at == root_ino)
            return {};
        std::shared_ptr<Node> n = m_fs.find(at);
        if (!n || n->type != VType::dir || n->dir.parent == at)
            return {};
        at = n->dir.parent;
    }
}

// Everything that can refuse a rename, checked before anything changes.
Result<void> TmpfsVnode::check_rename(std::string_view name, Node& child, Node& to,
                                      std::string_view to_name, Node* old) const {
    const Node& from = *m_node;
    UKFS_TRY(check_name(to_name));
    UKFS_TRY(check_entry(from, name, child));
    if (to.nlink == 0)
        return Error::sys(ENOENT, "tmpfs: the target directory was removed");
    UKFS_TRY(check_removable(from, child));
    if (to.immutable())
        return Error::sys(EPERM, "tmpfs: the target directory is immutable");
    const DirSlot* slot = to.dir.find(to_name);
    if (old == nullptr) {
        if (slot != nullptr)
            return Error::sys(EEXIST);
        return check_dir_move(child, to, false);
    }
    if (slot == nullptr || slot->ino != old->ino)
        return Error::sys(ENOENT);
    UKFS_TRY(check_removable(to, *old));
    if (child.type == VType::dir && old->type != VType::dir)
        return Error::sys(ENOTDIR);
    if (child.type != VType::dir && old->type == VType::dir)
        return Error::sys(EISDIR);
    if (old->type == VType::dir && !old->dir.empty())
        return Error::sys(ENOTEMPTY);
    return check_dir_move(child, to, old->type == VType::dir);
}

// A directory moving to another parent: not below itself, and room for its "..".
Result<void> TmpfsVnode::check_dir_move(const Node& child, const Node& to,
                                        bool replaces_dir) const {
    if (child.type != VType::dir || &to == m_node.get())
        return {};
    UKFS_TRY(check_not_below(child, to));
    if (!replaces_dir && to.nlink >= link_max)
        return Error::sys(EMLINK);
    return {};
}

// Entries first (the only step that allocates goes first), then link counts, then times.
Result<void> TmpfsVnode::rename(std::string_view name, vfs::Vnode& child, vfs::Vnode& to_dir,
                                std::string_view to_name, vfs::Vnode* replaced) {
    UKFS_TRY(m_fs.check_writable());
    Node& from = *m_node;
    UKFS_TRY(require_dir(from));
    Node& c = *UKFS_TRY(peer(child));
    Node& to = *UKFS_TRY(peer(to_dir));
    UKFS_TRY(require_dir(to));
    Node* old = replaced != nullptr ? UKFS_TRY(peer(*replaced)) : nullptr;
    if (const DirSlot* slot = to.dir.find(to_name); slot && slot->ino == c.ino)
        return {};  // the same node under both names: POSIX says do nothing
    UKFS_TRY(check_rename(name, c, to, to_name, old));

    if (old != nullptr)
        to.dir.repoint(to_name, c.ino, c.type);
    else
        to.dir.insert(to_name, c.ino, c.type);
    from.dir.erase(name);

    const timespec t = now();
    if (old != nullptr) {
        if (old->type == VType::dir) {
            old->nlink = 0;
            --to.nlink;
        } else {
            --old->nlink;
        }
        old->ctime = t;
    }
    if (c.type == VType::dir && &to != &from) {
        c.dir.parent = to.ino;
        --from.nlink;
        ++to.nlink;
    }
    c.ctime = t;
    from.modified(t);
    to.modified(t);
    return {};
}

}  // namespace uk::tmpfs
