// Extended attributes: name checks and the permission rules of Linux's xattr(7), which NetBSD's
// extattr namespaces (user, system) resemble: user.* follows the file's read and write
// permissions and exists only on regular files and directories; trusted.* is root's alone;
// security.* and system.* are readable by anyone who can look the file up, writable by root.
#include <mutex>

#include "vfs/mount.hpp"

namespace uk::vfs {

namespace {

using Shared = std::shared_lock<std::shared_mutex>;
using Exclusive = std::unique_lock<std::shared_mutex>;

constexpr std::size_t xattr_name_max = 255;    // XATTR_NAME_MAX
constexpr std::size_t xattr_size_max = 65536;  // XATTR_SIZE_MAX

enum class Space { user, trusted, security, system };

Result<Space> space_of(std::string_view name) {
    if (name.size() > xattr_name_max)
        return Error::sys(ERANGE);
    const std::size_t dot = name.find('.');
    if (dot == std::string_view::npos || dot + 1 == name.size())
        return Error::sys(EOPNOTSUPP);
    const std::string_view ns = name.substr(0, dot);
    if (ns == "user")
        return Space::user;
    if (ns == "trusted")
        return Space::trusted;
    if (ns == "security")
        return Space::security;
    if (ns == "system")
        return Space::system;
    return Error::sys(EOPNOTSUPP);
}

// Whether `cred` may read (write: false) or change (write: true) `name` on a node with `a`.
Result<void> may_xattr(const Attr& a, const Cred& cred, Space space, bool write) {
    switch (space) {
    case Space::user:
        if (a.type != VType::reg && a.type != VType::dir)
            return Error::sys(write ? EPERM : ENODATA);
        return check_access(a, cred, write ? access_write : access_read);
    case Space::trusted:
        return cred.is_root() ? Result<void>{} : Error::sys(write ? EPERM : ENODATA);
    case Space::security:
    case Space::system: return !write || cred.is_root() ? Result<void>{} : Error::sys(EPERM);
    }
    return Error::sys(EOPNOTSUPP);
}

}  // namespace

Result<std::vector<std::string>> Mount::listxattr(std::string_view path, Follow follow) {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    VnodeRef node = UKFS_TRY(resolve(path, follow));
    std::vector<std::string> names = UKFS_TRY(node->listxattr());
    // Only the names this user could read (as Linux lists trusted.* for root alone).
    std::erase_if(names, [&](const std::string& n) {
        auto space = space_of(n);
        return !space || (*space == Space::trusted && !m_cred.is_root());
    });
    return names;
}

Result<std::vector<std::byte>> Mount::getxattr(std::string_view path, std::string_view name,
                                               Follow follow) {
    Shared lock(m_lock);
    UKFS_TRY(check_alive());
    const Space space = UKFS_TRY(space_of(name));
    VnodeRef node = UKFS_TRY(resolve(path, follow));
    UKFS_TRY(may_xattr(UKFS_TRY(node->getattr()), m_cred, space, false));
    return node->getxattr(name);
}

Result<void> Mount::setxattr(std::string_view path, std::string_view name,
                             std::span<const std::byte> value, XattrSet how, Follow follow) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    const Space space = UKFS_TRY(space_of(name));
    if (value.size() > xattr_size_max)
        return Error::sys(E2BIG);
    VnodeRef node = UKFS_TRY(resolve(path, follow));
    const Attr a = UKFS_TRY(node->getattr());
    UKFS_TRY(may_xattr(a, m_cred, space, true));
    UKFS_TRY(check_not_frozen(a));
    return node->setxattr(name, value, how);
}

Result<void> Mount::removexattr(std::string_view path, std::string_view name, Follow follow) {
    Exclusive lock(m_lock);
    UKFS_TRY(check_writable());
    const Space space = UKFS_TRY(space_of(name));
    VnodeRef node = UKFS_TRY(resolve(path, follow));
    const Attr a = UKFS_TRY(node->getattr());
    UKFS_TRY(may_xattr(a, m_cred, space, true));
    UKFS_TRY(check_not_frozen(a));
    return node->removexattr(name);
}

}  // namespace uk::vfs
