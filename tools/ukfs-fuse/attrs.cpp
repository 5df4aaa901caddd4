// ukfs-fuse: extended attributes (getfattr, setfattr) and file flags (chattr, lsattr).
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include <linux/fs.h>
#include <sys/xattr.h>

#include <ukfs/netbsd.h>

#include "ops.hpp"

namespace ukfs_fuse {

namespace {

// POSIX ACLs are left out: the kernel checks access by the mode alone (no FUSE_POSIX_ACL), so
// an ACL stored through the mount would not be applied, and a program setting one (cp -a,
// setfacl) would take it as a change of the mode. Refused, they fall back to chmod.
bool is_acl(const char* name) {
    return std::strcmp(name, "system.posix_acl_access") == 0 ||
           std::strcmp(name, "system.posix_acl_default") == 0;
}

// getxattr(2)'s answer: with size 0 the length only, ERANGE when it does not fit.
int give_bytes(const void* from, std::size_t n, char* to, size_t size) {
    if (n > XATTR_SIZE_MAX)
        return -E2BIG;
    if (size == 0)
        return static_cast<int>(n);
    if (n > size)
        return -ERANGE;
    std::memcpy(to, from, n);
    return static_cast<int>(n);
}

// Linux's flags as ukfs keeps them (chflags(2) values, as NetBSD's ext2fs maps them): immutable
// and append-only are the system's (SF_*), nodump the user's. No other flag has a home.
constexpr std::uint32_t linux_flags = FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL;
constexpr std::uint32_t mapped_chflags =
    UF_IMMUTABLE | SF_IMMUTABLE | UF_APPEND | SF_APPEND | UF_NODUMP;

std::uint32_t to_linux_flags(std::uint32_t f) {
    std::uint32_t out = 0;
    if (f & (UF_IMMUTABLE | SF_IMMUTABLE))
        out |= FS_IMMUTABLE_FL;
    if (f & (UF_APPEND | SF_APPEND))
        out |= FS_APPEND_FL;
    if (f & UF_NODUMP)
        out |= FS_NODUMP_FL;
    return out;
}

// The new chflags value: `old`'s other flags kept, and a user flag already set (UF_IMMUTABLE
// from fsu chflags uchg) kept as it is while Linux's flag stays on.
std::uint32_t from_linux_flags(std::uint32_t lf, std::uint32_t old) {
    std::uint32_t out = old & ~mapped_chflags;
    auto keep = [&](std::uint32_t linux_bit, std::uint32_t pair, std::uint32_t fresh) {
        if (lf & linux_bit)
            out |= (old & pair) ? (old & pair) : fresh;
    };
    keep(FS_IMMUTABLE_FL, UF_IMMUTABLE | SF_IMMUTABLE, SF_IMMUTABLE);
    keep(FS_APPEND_FL, UF_APPEND | SF_APPEND, SF_APPEND);
    keep(FS_NODUMP_FL, UF_NODUMP, UF_NODUMP);
    return out;
}

// The same three as the xflags of FS_IOC_FSGETXATTR / FS_IOC_FSSETXATTR (xfs_io's chattr).
std::uint32_t xflags_from_linux(std::uint32_t lf) {
    return ((lf & FS_IMMUTABLE_FL) ? FS_XFLAG_IMMUTABLE : 0u) |
           ((lf & FS_APPEND_FL) ? FS_XFLAG_APPEND : 0u) |
           ((lf & FS_NODUMP_FL) ? FS_XFLAG_NODUMP : 0u);
}
std::uint32_t linux_from_xflags(std::uint32_t xf) {
    return ((xf & FS_XFLAG_IMMUTABLE) ? FS_IMMUTABLE_FL : 0u) |
           ((xf & FS_XFLAG_APPEND) ? FS_APPEND_FL : 0u) |
           ((xf & FS_XFLAG_NODUMP) ? FS_NODUMP_FL : 0u);
}

}  // namespace

// ---- extended attributes: by path, never following a symbolic link (the kernel resolved it) --

int op_setxattr(const char* path, const char* name, const char* value, size_t size, int flags) {
    if (!path)
        return -ENOENT;
    if (is_acl(name))
        return -EOPNOTSUPP;
    if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0 ||
        (flags & (XATTR_CREATE | XATTR_REPLACE)) == (XATTR_CREATE | XATTR_REPLACE))
        return -EINVAL;
    auto mode = (flags & XATTR_CREATE)    ? uk::Mount::XattrMode::create
                : (flags & XATTR_REPLACE) ? uk::Mount::XattrMode::replace
                                          : uk::Mount::XattrMode::any;
    auto data = std::as_bytes(std::span(value, size));
    if (auto r = mnt().set_xattr(path, name, data, mode, uk::Follow::no); !r)
        return fail(path, r.error());
    return 0;
}

int op_getxattr(const char* path, const char* name, char* value, size_t size) {
    if (!path)
        return -ENOENT;
    if (is_acl(name))
        return -EOPNOTSUPP;
    auto r = mnt().get_xattr(path, name, uk::Follow::no);
    if (!r)
        return fail(path, r.error());
    return give_bytes(r->data(), r->size(), value, size);
}

int op_listxattr(const char* path, char* list, size_t size) {
    if (!path)
        return -ENOENT;
    auto r = mnt().list_xattrs(path, uk::Follow::no);
    if (!r)
        return fail(path, r.error());
    std::string names;  // each name NUL-terminated
    for (const std::string& n : *r) {
        if (is_acl(n.c_str()))
            continue;
        names += n;
        names += '\0';
    }
    return give_bytes(names.data(), names.size(), list, size);
}

int op_removexattr(const char* path, const char* name) {
    if (!path)
        return -ENOENT;
    if (is_acl(name))
        return -EOPNOTSUPP;
    if (auto r = mnt().remove_xattr(path, name, uk::Follow::no); !r)
        return fail(path, r.error());
    return 0;
}

// ---- file flags: chattr(1) and lsattr(1) -----------------------------------------------------

// The kernel turns chattr's and lsattr's ioctls into its fileattr calls, which reach a FUSE
// file system as these four, for files and directories alike, with a buffer of the exact size
// both ways (an unsigned int; a struct fsxattr). Setting the flags, the kernel first reads
// them with FS_IOC_FSGETXATTR. The permission checks (owner, CAP_LINUX_IMMUTABLE) are the
// kernel's. Any other request is not a file system's business here: ENOTTY.
int op_ioctl(const char* path, int cmd, void*, fuse_file_info*, unsigned int flags, void* data) {
    const auto c = static_cast<unsigned int>(cmd);
    const bool get = c == FS_IOC_GETFLAGS || c == FS_IOC_FSGETXATTR;
    if ((flags & FUSE_IOCTL_COMPAT) || (!get && c != FS_IOC_SETFLAGS && c != FS_IOC_FSSETXATTR))
        return -ENOTTY;
    if (!path)
        return -ENOENT;
    if (!data)
        return -EFAULT;
    auto old = mnt().flags(path, uk::Follow::no);
    if (!old)
        return fail(path, old.error());
    std::uint32_t lf = to_linux_flags(*old);
    if (c == FS_IOC_GETFLAGS) {
        std::memcpy(data, &lf, sizeof lf);
        return 0;
    }
    if (c == FS_IOC_FSGETXATTR) {
        struct fsxattr fx {};
        fx.fsx_xflags = xflags_from_linux(lf);
        std::memcpy(data, &fx, sizeof fx);
        return 0;
    }
    if (c == FS_IOC_SETFLAGS) {
        std::memcpy(&lf, data, sizeof lf);
        if (lf & ~linux_flags)
            return -EOPNOTSUPP;
    } else {
        struct fsxattr fx {};
        std::memcpy(&fx, data, sizeof fx);
        constexpr std::uint32_t known = FS_XFLAG_IMMUTABLE | FS_XFLAG_APPEND | FS_XFLAG_NODUMP;
        if ((fx.fsx_xflags & ~known) || fx.fsx_extsize || fx.fsx_projid || fx.fsx_cowextsize)
            return -EOPNOTSUPP;
        lf = linux_from_xflags(fx.fsx_xflags);
    }
    std::uint32_t want = from_linux_flags(lf, *old);
    if (want == *old)
        return 0;
    if (auto r = mnt().chflags(path, want, uk::Follow::no); !r)
        return fail(path, r.error());
    return 0;
}

}  // namespace ukfs_fuse
