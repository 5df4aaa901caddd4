// Credentials and the POSIX permission checks made on their behalf. A mount acts as root by
// default, as NetBSD's libukfs does.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.hpp"
#include "vfs/vnode.hpp"

namespace uk::vfs {

struct Cred {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::vector<std::uint32_t> groups;  // supplementary groups

    bool is_root() const { return uid == 0; }
    bool in_group(std::uint32_t g) const;
};

enum Access : unsigned { access_read = 4, access_write = 2, access_exec = 1 };

// EACCES unless `cred` may access a node of attributes `attr` as `want` (a mask of Access).
Result<void> check_access(const Attr& attr, const Cred& cred, unsigned want);
// EPERM unless `cred` owns the node or is root.
Result<void> check_owner(const Attr& attr, const Cred& cred);
// The sticky-directory rule for removing or renaming `child` out of `dir`.
Result<void> check_sticky(const Attr& dir, const Attr& child, const Cred& cred);

// chflags(2) flags that freeze a node, as NetBSD's ufs and tmpfs apply them: an immutable node
// is neither changed, renamed, linked nor removed, and an immutable directory takes no new
// entries; an append-only file is only written at its end, an append-only directory loses no
// entries. Both kinds refuse attribute changes other than chflags itself.
bool is_immutable(const Attr& attr);
bool is_append_only(const Attr& attr);
// EPERM if `attr` is immutable or append-only.
Result<void> check_not_frozen(const Attr& attr);

}  // namespace uk::vfs
