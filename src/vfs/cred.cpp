// Permission checks (POSIX.1-2017, 4.5 "File Access Permissions") and the chflags(2) rules.
#include "vfs/cred.hpp"

#include <algorithm>

#include <ukfs/netbsd.h>

namespace uk::vfs {

bool Cred::in_group(std::uint32_t g) const {
    return g == gid || std::find(groups.begin(), groups.end(), g) != groups.end();
}

Result<void> check_access(const Attr& attr, const Cred& cred, unsigned want) {
    if (cred.is_root()) {
        // Root may do anything but execute a file that nobody may execute.
        if ((want & access_exec) && attr.type != VType::dir && (attr.mode & 0111) == 0)
            return Error::sys(EACCES);
        return {};
    }
    unsigned bits;
    if (cred.uid == attr.uid)
        bits = (attr.mode >> 6) & 7;
    else if (cred.in_group(attr.gid))
        bits = (attr.mode >> 3) & 7;
    else
        bits = attr.mode & 7;
    if ((bits & want) != want)
        return Error::sys(EACCES);
    return {};
}

Result<void> check_owner(const Attr& attr, const Cred& cred) {
    if (cred.is_root() || cred.uid == attr.uid)
        return {};
    return Error::sys(EPERM);
}

Result<void> check_sticky(const Attr& dir, const Attr& child, const Cred& cred) {
    if (!(dir.mode & 01000) || cred.is_root() || cred.uid == dir.uid || cred.uid == child.uid)
        return {};
    return Error::sys(EPERM);
}

bool is_immutable(const Attr& attr) {
    return (attr.flags & (UF_IMMUTABLE | SF_IMMUTABLE)) != 0;
}

bool is_append_only(const Attr& attr) {
    return (attr.flags & (UF_APPEND | SF_APPEND)) != 0;
}

Result<void> check_not_frozen(const Attr& attr) {
    if (is_immutable(attr) || is_append_only(attr))
        return Error::sys(EPERM);
    return {};
}

}  // namespace uk::vfs
