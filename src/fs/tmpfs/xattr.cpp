// tmpfs extended attributes: kept in the node, each value at most 64 KiB (the VFS checks),
// gone with the node.
#include "base/time.hpp"
#include "fs/tmpfs/tmpfs.hpp"
#include "fs/tmpfs/vnode_ops.hpp"

namespace uk::tmpfs {

Result<std::vector<std::string>> TmpfsVnode::listxattr() {
    std::vector<std::string> names;
    for (const auto& [name, value] : m_node->xattrs)
        names.push_back(name);
    return names;
}

Result<std::vector<std::byte>> TmpfsVnode::getxattr(std::string_view name) {
    const auto it = m_node->xattrs.find(name);
    if (it == m_node->xattrs.end())
        return Error::sys(ENODATA);
    return it->second;
}

Result<void> TmpfsVnode::setxattr(std::string_view name, std::span<const std::byte> value,
                                  vfs::XattrSet how) {
    UKFS_TRY(m_fs.check_writable());
    auto it = m_node->xattrs.find(name);
    if (how == vfs::XattrSet::create && it != m_node->xattrs.end())
        return Error::sys(EEXIST);
    if (how == vfs::XattrSet::replace && it == m_node->xattrs.end())
        return Error::sys(ENODATA);
    if (it == m_node->xattrs.end())
        it = m_node->xattrs.emplace(std::string(name), std::vector<std::byte>{}).first;
    it->second.assign(value.begin(), value.end());
    m_node->ctime = now();
    return {};
}

Result<void> TmpfsVnode::removexattr(std::string_view name) {
    UKFS_TRY(m_fs.check_writable());
    const auto it = m_node->xattrs.find(name);
    if (it == m_node->xattrs.end())
        return Error::sys(ENODATA);
    m_node->xattrs.erase(it);
    m_node->ctime = now();
    return {};
}

}  // namespace uk::tmpfs
