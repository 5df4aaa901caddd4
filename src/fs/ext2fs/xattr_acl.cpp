// POSIX ACLs as ext4 stores them (fs/ext4/acl.h: a version 1 header, then 4-byte entries for
// the owner, owning group, mask and other, 8-byte ones with an id for named users and groups)
// and as the xattr interface carries them (linux/posix_acl_xattr.h: version 2, every entry 8
// bytes). Validation follows the kernel's posix_acl_valid().
#include <cstring>

#include <fmt/format.h>

#include "fs/ext2fs/xattr.hpp"

namespace uk::ext2fs {

namespace {

constexpr std::uint32_t ext4_acl_version = 1;
constexpr std::uint32_t xattr_acl_version = 2;
constexpr std::uint16_t tag_user_obj = 0x01, tag_user = 0x02, tag_group_obj = 0x04,
                        tag_group = 0x08, tag_mask = 0x10, tag_other = 0x20;
constexpr std::uint16_t perm_bits = 07;  // read, write, execute
constexpr std::uint32_t no_id = 0xFFFFFFFF;

template <class T, class V>
void put(std::vector<std::byte>& out, V value) {
    T f;
    f.set(static_cast<decltype(f.get())>(value));
    const auto* p = reinterpret_cast<const std::byte*>(&f);
    out.insert(out.end(), p, p + sizeof f);
}

struct AclEntry {
    std::uint16_t tag;
    std::uint16_t perm;
    std::uint32_t id;
};

// The posix_acl_xattr entries, after the size and version checks (EINVAL).
Result<std::vector<AclEntry>> xattr_entries(std::span<const std::byte> value) {
    const ByteView v(value, "posix_acl_xattr");
    if (v.size() < 4 || (v.size() - 4) % 8 != 0 || (v.size() - 4) / 8 == 0)
        return Error::sys(EINVAL, "ext2fs: an ACL value is a 4-byte header and 8-byte entries");
    if (UKFS_TRY(v.read<le32>(0)).get() != xattr_acl_version)
        return Error::sys(EINVAL, "ext2fs: the ACL value's version is not 2");
    std::vector<AclEntry> out;
    for (std::uint64_t pos = 4; pos < v.size(); pos += 8)
        out.push_back({UKFS_TRY(v.read<le16>(pos)).get(), UKFS_TRY(v.read<le16>(pos + 2)).get(),
                       UKFS_TRY(v.read<le32>(pos + 4)).get()});
    return out;
}

// posix_acl_valid's order: owner, named users, owning group, named groups, mask, other; the
// mask required when there are named entries.
Result<void> validate(const std::vector<AclEntry>& acl) {
    enum { want_user_obj, in_users, in_groups, want_other, done } state = want_user_obj;
    bool needs_mask = false;
    const auto bad = [] { return Error::sys(EINVAL, "ext2fs: the ACL is not valid"); };
    for (const AclEntry& e : acl) {
        if ((e.perm & ~perm_bits) != 0)
            return bad();
        switch (e.tag) {
        case tag_user_obj:
            if (state != want_user_obj)
                return bad();
            state = in_users;
            break;
        case tag_user:
            if (state != in_users || e.id == no_id)
                return bad();
            needs_mask = true;
            break;
        case tag_group_obj:
            if (state != in_users)
                return bad();
            state = in_groups;
            break;
        case tag_group:
            if (state != in_groups || e.id == no_id)
                return bad();
            needs_mask = true;
            break;
        case tag_mask:
            if (state != in_groups)
                return bad();
            state = want_other;
            break;
        case tag_other:
            if (state != want_other && (state != in_groups || needs_mask))
                return bad();
            state = done;
            break;
        default: return bad();
        }
    }
    if (state != done)
        return bad();
    return {};
}

}  // namespace

Result<std::vector<std::byte>> acl_to_xattr(ByteView v, const std::string& what) {
    auto bad = [&](std::string why) { return Error::corrupt(what, std::move(why)); };
    if (v.size() < 4 || UKFS_TRY(v.read<le32>(0)).get() != ext4_acl_version)
        return bad("the ACL's version is not 1");
    std::vector<std::byte> out;
    put<le32>(out, xattr_acl_version);
    for (std::uint64_t pos = 4; pos < v.size();) {
        const std::uint16_t tag = UKFS_TRY(v.read<le16>(pos)).get();
        const std::uint16_t perm = UKFS_TRY(v.read<le16>(pos + 2)).get();
        std::uint32_t id = no_id;
        if (tag == tag_user || tag == tag_group) {
            id = UKFS_TRY(v.read<le32>(pos + 4)).get();
            pos += 8;
        } else {
            pos += 4;
        }
        put<le16>(out, tag);
        put<le16>(out, perm);
        put<le32>(out, id);
    }
    return out;
}

Result<std::vector<std::byte>> xattr_to_acl(std::span<const std::byte> value) {
    const std::vector<AclEntry> acl = UKFS_TRY(xattr_entries(value));
    UKFS_TRY(validate(acl));
    std::vector<std::byte> out;
    put<le32>(out, ext4_acl_version);
    for (const AclEntry& e : acl) {
        put<le16>(out, e.tag);
        put<le16>(out, e.perm);
        if (e.tag == tag_user || e.tag == tag_group)
            put<le32>(out, e.id);
    }
    return out;
}

AclMode acl_mode(std::span<const std::byte> value) {
    AclMode m;
    auto acl = xattr_entries(value);
    if (!acl)
        return m;
    std::uint16_t owner = 0, group = 0, mask = 0, other = 0;
    bool has_mask = false, named = false;
    for (const AclEntry& e : *acl) {
        switch (e.tag) {
        case tag_user_obj: owner = e.perm; break;
        case tag_group_obj: group = e.perm; break;
        case tag_mask:
            mask = e.perm;
            has_mask = true;
            break;
        case tag_other: other = e.perm; break;
        default: named = true; break;
        }
    }
    m.perms = static_cast<std::uint16_t>(owner << 6 | (has_mask ? mask : group) << 3 | other);
    m.equivalent = !named && !has_mask;
    return m;
}

}  // namespace uk::ext2fs
