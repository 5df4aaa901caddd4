// Extended attributes, read side (attributes.rst): the in-inode area after i_extra_isize and
// the attribute block (i_file_acl), whose entries share one layout: a 16-byte XattrEntry, the
// name without its namespace prefix (e_name_index says which), values at e_value_offs from the
// first entry (in the inode) or from the block's start. POSIX ACLs are stored in ext4's compact
// form and handed out in the posix_acl_xattr form that getfacl reads.
#include <cstring>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "base/crc32c.hpp"
#include "fs/ext2fs/csum.hpp"
#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/vnode_ops.hpp"
#include "fs/ext2fs/xattr.hpp"

namespace uk::ext2fs {

namespace {

std::string_view prefix_of(std::uint8_t index) {
    switch (index) {
    case 0: return "";
    case 1: return "user.";
    case xattr_index_acl_access: return "system.posix_acl_access";
    case xattr_index_acl_default: return "system.posix_acl_default";
    case 4: return "trusted.";
    case 6: return "security.";
    case 7: return "system.";
    case 8: return "system.richacl";
    default: return {};
    }
}

// Visit the entries of one area: `entries` starts at the first entry; values are at
// e_value_offs from `values`.
template <class Visit>
Result<void> walk_area(ByteView entries, ByteView values, const std::string& what, Visit&& visit) {
    std::uint64_t pos = 0;
    while (entries.fits(pos, 4) && UKFS_TRY(entries.read<le32>(pos)).get() != 0) {
        const XattrEntry e = UKFS_TRY(entries.read<XattrEntry>(pos));
        const std::uint64_t len = (sizeof(XattrEntry) + e.e_name_len + 3u) & ~std::uint64_t{3};
        if (!entries.fits(pos, len))
            return Error::corrupt(what, fmt::format("entry at {} overruns the area", pos));
        const std::string_view prefix = prefix_of(e.e_name_index);
        if (e.e_name_index != 0 && prefix.empty()) {
            pos += len;
            continue;  // a namespace this driver does not know: not listed
        }
        std::string name(prefix);
        name.append(reinterpret_cast<const char*>(entries.data() + pos + sizeof e), e.e_name_len);
        if (e.e_value_inum.get() != 0)
            return Error::sys(ENOTSUP, fmt::format("{}: the value of {} lives in an inode "
                                                   "(ea_inode), which is not supported",
                                                   what, name));
        const ByteView v = UKFS_TRY(values.sub(e.e_value_offs.get(), e.e_value_size.get()));
        if (!UKFS_TRY(visit(name, e.e_name_index, v)))
            return {};
        pos += len;
    }
    return {};
}

}  // namespace

// Every attribute of `inode`, in-inode first, until `visit` returns false.
template <class Visit>
Result<void> Ext2Vnode::walk_xattrs(Visit&& visit) {
    const InodeData& d = m_inode;
    const ByteView area(std::span<const std::byte>(d.ibody_xattrs), "ext2fs: in-inode xattrs");
    bool go_on = true;
    auto wrapped = [&](const std::string& n, std::uint8_t i, ByteView v) -> Result<bool> {
        go_on = UKFS_TRY(visit(n, i, v));
        return go_on;
    };
    if (area.size() >= sizeof(XattrIbodyHeader) &&
        UKFS_TRY(area.read<le32>(0)).get() == xattr_magic) {
        const ByteView entries = UKFS_TRY(area.sub(4, area.size() - 4));
        UKFS_TRY(walk_area(entries, entries, d.what() + ": in-inode xattrs", wrapped));
    }
    if (!go_on || d.file_acl == 0)
        return {};
    const Geometry& g = m_fs.geometry();
    const std::string what = fmt::format("{}: xattr block {}", d.what(), d.file_acl);
    io::BufRef buf = UKFS_TRY(m_fs.block(d.file_acl, what));
    const ByteView block(buf.data(), what);
    const XattrHeader h = UKFS_TRY(block.read<XattrHeader>(0));
    if (h.h_magic.get() != xattr_magic)
        return Error::corrupt(what, fmt::format("bad magic {:#x}", h.h_magic.get()));
    if (h.h_blocks.get() != 1)
        return Error::corrupt(what, fmt::format("h_blocks is {}, not 1", h.h_blocks.get()));
    if (g.metadata_csum() && !m_fs.checksum_verified(d.file_acl)) {
        const std::uint32_t c = xattr_block_checksum(g, d.file_acl, block.span());
        UKFS_TRY(check_csum(h.h_checksum.get(), c, what));
        m_fs.set_checksum_verified(d.file_acl);
    }
    const ByteView entries =
        UKFS_TRY(block.sub(sizeof(XattrHeader), block.size() - sizeof(XattrHeader)));
    return walk_area(entries, block, what, wrapped);
}

Result<std::vector<std::string>> Ext2Vnode::listxattr() {
    std::vector<std::string> names;
    UKFS_TRY(walk_xattrs([&](const std::string& n, std::uint8_t, ByteView) -> Result<bool> {
        names.push_back(n);
        return true;
    }));
    return names;
}

Result<std::vector<std::byte>> Ext2Vnode::getxattr(std::string_view name) {
    std::optional<std::vector<std::byte>> found;
    UKFS_TRY(walk_xattrs([&](const std::string& n, std::uint8_t index, ByteView v) -> Result<bool> {
        if (n != name)
            return true;
        if (index == xattr_index_acl_access || index == xattr_index_acl_default) {
            auto acl = acl_to_xattr(v, m_inode.what() + ": " + n);
            if (!acl)
                return acl.error();
            found = std::move(*acl);
        } else
            found.emplace(v.span().begin(), v.span().end());
        return false;
    }));
    if (!found)
        return Error::sys(ENODATA);
    return std::move(*found);
}

}  // namespace uk::ext2fs
