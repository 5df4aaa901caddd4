// Path resolution, confined to the mount. Facts: POSIX.1-2017 4.13 "Pathname Resolution";
// the limits are NetBSD's (PATH_MAX 1024, NAME_MAX 255, MAXSYMLINKS 32).
#include <fmt/format.h>

#include "vfs/mount.hpp"

namespace uk::vfs {

Result<VnodeRef> Mount::lookup_child(VnodeRef dir, std::string_view name) {
    InodeNo ino;
    const bool cacheable = name != "..";
    if (!(cacheable && m_names.find(dir->ino(), name, ino))) {
        ino = UKFS_TRY(dir->lookup(name));
        if (cacheable)
            m_names.enter(dir->ino(), name, ino);
    }
    return m_vnodes.get(ino);
}

Result<VnodeRef> Mount::start_for(std::string_view path) {
    if (path.empty())
        return Error::sys(ENOENT);
    if (path.size() >= max_path)
        return Error::sys(ENAMETOOLONG);
    return path.front() == '/' ? m_root : m_cwd;
}

// Walk `path` from `cur`. With `parent_out`, stop before the last component and describe it
// there (the path names the root or ends in "." or ".." when parent_out->name says so);
// otherwise return the node the path names. Symbolic links met on the way are followed,
// the last one only when `follow_last` says so (or when a slash follows it).
Result<VnodeRef> Mount::walk(VnodeRef cur, std::string_view path, Follow follow_last, int& links,
                             Parent* parent_out) {
    std::string rest(path);
    std::size_t pos = 0;
    for (;;) {
        while (pos < rest.size() && rest[pos] == '/')
            ++pos;
        if (pos == rest.size()) {  // nothing left: the path named `cur` (perhaps with a '/')
            if (parent_out)
                *parent_out = Parent{cur, "", true};
            return cur;
        }
        std::size_t end = rest.find('/', pos);
        if (end == std::string::npos)
            end = rest.size();
        std::string comp = rest.substr(pos, end - pos);
        pos = end;
        const bool trailing = rest.find_first_not_of('/', pos) == std::string::npos;
        const bool last = trailing;
        const bool slash_after = last && pos < rest.size();

        if (comp.size() > max_name)
            return Error::sys(ENAMETOOLONG);
        if (cur->type() != VType::dir)
            return Error::sys(ENOTDIR);
        UKFS_TRY(may(*cur, access_exec));
        if (last && parent_out) {
            *parent_out = Parent{cur, comp, slash_after};
            return cur;
        }
        if (comp == ".")
            continue;
        if (comp == "..") {
            if (cur->ino() != m_root->ino())  // ".." at the mount's root stays there
                cur = UKFS_TRY(lookup_child(cur, ".."));
            continue;
        }
        VnodeRef next = UKFS_TRY(lookup_child(cur, comp));
        if (next->type() == VType::lnk && (!last || follow_last == Follow::yes || slash_after)) {
            if (++links > max_symlinks)
                return Error::sys(ELOOP);
            std::string target = UKFS_TRY(next->readlink());
            if (target.empty())
                return Error::sys(ENOENT);
            std::string remaining = rest.substr(pos);
            if (target.size() + remaining.size() >= max_path)
                return Error::sys(ENAMETOOLONG);
            rest = target + remaining;
            pos = 0;
            if (target.front() == '/')  // absolute targets start again at the image's root
                cur = m_root;
            continue;
        }
        if (slash_after && next->type() != VType::dir)
            return Error::sys(ENOTDIR);
        cur = std::move(next);
    }
}

Result<VnodeRef> Mount::resolve(std::string_view path, Follow follow) {
    VnodeRef start = UKFS_TRY(start_for(path));
    int links = 0;
    return walk(std::move(start), path, follow, links, nullptr);
}

Result<Mount::Parent> Mount::resolve_parent(std::string_view path) {
    VnodeRef start = UKFS_TRY(start_for(path));
    int links = 0;
    Parent p;
    UKFS_TRY(walk(std::move(start), path, Follow::no, links, &p));
    return p;
}

// The node the last component names, or null when there is no such entry.
Result<VnodeRef> Mount::child_or_null(Parent& p) {
    auto child = lookup_child(p.dir, p.name);
    if (!child) {
        if (child.error().errnum() == ENOENT)
            return VnodeRef{};
        return child.error();
    }
    return *child;
}

// True when `maybe_ancestor` is `dir` or one of its ancestors (rename must not move a
// directory below itself).
Result<bool> Mount::is_ancestor(Vnode& maybe_ancestor, VnodeRef dir) {
    for (int depth = 0; depth < 4096; ++depth) {
        if (dir->ino() == maybe_ancestor.ino())
            return true;
        if (dir->ino() == m_root->ino())
            return false;
        dir = UKFS_TRY(lookup_child(dir, ".."));
    }
    return Error::corrupt("directory tree", "\"..\" chain longer than 4096 levels (a loop?)");
}

}  // namespace uk::vfs
