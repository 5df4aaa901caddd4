// Extended attributes, write side (attributes.rst; the placement rules of the kernel's
// fs/ext4/xattr.c). An attribute goes in the inode body when it fits there, else in the
// attribute block. Each change re-encodes the area it touches: in the inode, entries in their
// order from the first entry, values packed down from the inode's end, offsets counted from the
// first entry; in the block, entries sorted as the kernel sorts them (name index, name length,
// name), values packed down from the block's end, offsets counted from the block's start, the
// entry hashes, h_hash and the metadata_csum checksum set. A block other inodes share
// (h_refcount > 1) is never changed in place: the inode gets a copy of its own and the shared
// block loses one reference. A block left empty is released. Values in an EA inode (ea_inode)
// are not written: an inode holding one answers ENOTSUP.
#include <algorithm>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "base/crc32c.hpp"
#include "fs/ext2fs/csum.hpp"
#include "fs/ext2fs/vnode_ops.hpp"
#include "fs/ext2fs/xattr.hpp"

namespace uk::ext2fs {

namespace {

struct Item {
    std::uint8_t index = 0;
    std::string name;  // without the namespace prefix
    std::vector<std::byte> value;
};

// The attribute block as read: its items and reference count (0: no block).
struct BlockItems {
    std::vector<Item> items;
    std::uint32_t refcount = 0;
};

// Every entry of one area, unknown name indexes included (kept as they are). `entries` starts
// at the first entry; values are at e_value_offs from `values`.
Result<std::vector<Item>> parse_area(ByteView entries, ByteView values, const std::string& what) {
    std::vector<Item> items;
    std::uint64_t pos = 0;
    while (entries.fits(pos, 4) && UKFS_TRY(entries.read<le32>(pos)).get() != 0) {
        const XattrEntry e = UKFS_TRY(entries.read<XattrEntry>(pos));
        const std::uint64_t len = xattr_entry_len(e.e_name_len);
        if (!entries.fits(pos, len))
            return Error::corrupt(what, fmt::format("entry at {} overruns the area", pos));
        Item it;
        it.index = e.e_name_index;
        it.name.assign(reinterpret_cast<const char*>(entries.data() + pos + sizeof e),
                       e.e_name_len);
        if (e.e_value_inum.get() != 0)
            return Error::sys(ENOTSUP, fmt::format("{}: attribute {} keeps its value in an inode "
                                                   "(ea_inode); this driver does not rewrite "
                                                   "such attributes",
                                                   what, it.name));
        const ByteView v = UKFS_TRY(values.sub(e.e_value_offs.get(), e.e_value_size.get()));
        it.value.assign(v.span().begin(), v.span().end());
        items.push_back(std::move(it));
        pos += len;
    }
    return items;
}

Result<std::vector<Item>> ibody_items(const InodeData& d) {
    const ByteView area(std::span<const std::byte>(d.ibody_xattrs), "ext2fs: in-inode xattrs");
    if (area.size() < sizeof(XattrIbodyHeader) || UKFS_TRY(area.read<le32>(0)).get() != xattr_magic)
        return std::vector<Item>{};
    const ByteView entries = UKFS_TRY(area.sub(4, area.size() - 4));
    return parse_area(entries, entries, d.what() + ": in-inode xattrs");
}

Result<BlockItems> block_items(Ext2Fs& fs, const InodeData& d) {
    if (d.file_acl == 0)
        return BlockItems{};
    const Geometry& g = fs.geometry();
    const std::string what = fmt::format("{}: xattr block {}", d.what(), d.file_acl);
    io::BufRef buf = UKFS_TRY(fs.block(d.file_acl, what));
    const ByteView block(buf.data(), what);
    const XattrHeader h = UKFS_TRY(block.read<XattrHeader>(0));
    if (h.h_magic.get() != xattr_magic || h.h_blocks.get() != 1 || h.h_refcount.get() == 0)
        return Error::corrupt(what, "has a bad magic, h_blocks or h_refcount");
    if (g.metadata_csum() && !fs.checksum_verified(d.file_acl)) {
        UKFS_TRY(check_csum(h.h_checksum.get(), xattr_block_checksum(g, d.file_acl, block.span()),
                            what));
        fs.set_checksum_verified(d.file_acl);
    }
    const ByteView entries =
        UKFS_TRY(block.sub(sizeof(XattrHeader), block.size() - sizeof(XattrHeader)));
    return BlockItems{UKFS_TRY(parse_area(entries, block, what)), h.h_refcount.get()};
}

// Bytes the items take: their entries and the 4-byte end mark, and their values.
std::size_t space_of(const std::vector<Item>& items) {
    std::size_t n = 4;
    for (const Item& it : items)
        n += xattr_entry_len(it.name.size()) + xattr_value_len(it.value.size());
    return n;
}

// Whether `items` fit the in-inode area of `area` bytes (its 4-byte magic first).
bool fits_ibody(std::size_t area, const std::vector<Item>& items) {
    return items.empty() ||
           (area >= sizeof(XattrIbodyHeader) && sizeof(XattrIbodyHeader) + space_of(items) <= area);
}

bool fits_block(std::size_t block_size, const std::vector<Item>& items) {
    return sizeof(XattrHeader) + space_of(items) <= block_size;
}

// The kernel's block order (ext4_xattr_find_entry with `sorted`).
bool block_order(const Item& a, const Item& b) {
    if (a.index != b.index)
        return a.index < b.index;
    if (a.name.size() != b.name.size())
        return a.name.size() < b.name.size();
    return a.name < b.name;
}

// Write `items` into the zeroed `out`: entries from `entries_at`, values packed down from the
// end, each value's offset counted from `base`. Returns the entries' hashes in order.
std::vector<std::uint32_t> encode_area(std::span<std::byte> out, std::size_t entries_at,
                                       std::size_t base, const std::vector<Item>& items) {
    std::vector<std::uint32_t> hashes;
    std::size_t pos = entries_at;
    std::size_t end = out.size();
    for (const Item& it : items) {
        XattrEntry e{};
        e.e_name_len = static_cast<std::uint8_t>(it.name.size());
        e.e_name_index = it.index;
        if (!it.value.empty()) {
            end -= xattr_value_len(it.value.size());
            std::memcpy(out.data() + end, it.value.data(), it.value.size());
            e.e_value_offs.set(static_cast<std::uint16_t>(end - base));
        }
        e.e_value_size.set(static_cast<std::uint32_t>(it.value.size()));
        e.e_hash.set(xattr_entry_hash(it.name, it.value));
        hashes.push_back(e.e_hash.get());
        std::memcpy(out.data() + pos, &e, sizeof e);
        std::memcpy(out.data() + pos + sizeof e, it.name.data(), it.name.size());
        pos += xattr_entry_len(it.name.size());
    }
    return hashes;
}

void encode_ibody(InodeData& d, const std::vector<Item>& items) {
    std::vector<std::byte>& area = d.ibody_xattrs;
    std::fill(area.begin(), area.end(), std::byte{0});
    if (items.empty())
        return;  // no magic: the kernel clears it with the last in-inode attribute
    le32 magic;
    magic.set(xattr_magic);
    std::memcpy(area.data(), &magic, sizeof magic);
    encode_area(area, sizeof magic, sizeof magic, items);
}

// Store `items` as the inode's attribute block: in place when the inode is its only user, else
// in a new block near the inode (the shared one loses a reference); none when empty.
Result<void> store_block(Ext2Fs& fs, InodeData& d, const BlockItems& old,
                         const std::vector<Item>& items) {
    const Geometry& g = fs.geometry();
    if (items.empty())
        return release_xattr_block(fs, d);
    std::vector<std::byte> bytes(g.block_size);
    XattrHeader h{};
    h.h_magic.set(xattr_magic);
    h.h_refcount.set(1);
    h.h_blocks.set(1);
    const std::vector<std::uint32_t> hashes = encode_area(bytes, sizeof h, 0, items);
    h.h_hash.set(xattr_block_hash(hashes));
    std::memcpy(bytes.data(), &h, sizeof h);
    const bool fresh = d.file_acl == 0 || old.refcount > 1;
    std::uint64_t target = d.file_acl;
    if (fresh)
        target = UKFS_TRY(fs.alloc_blocks(fs.inode_goal(d.ino), 1)).start;
    if (g.metadata_csum()) {
        h.h_checksum.set(xattr_block_checksum(g, target, bytes));
        std::memcpy(bytes.data(), &h, sizeof h);
    }
    const std::string what = fmt::format("{}: xattr block {}", d.what(), target);
    {
        io::BufRef buf = UKFS_TRY(fs.block(target, what));
        std::span<std::byte> out = buf.mark_dirty();
        std::memcpy(out.data(), bytes.data(), bytes.size());
    }
    if (g.metadata_csum())
        fs.set_checksum_verified(target);  // written with its checksum just now
    if (fresh) {
        UKFS_TRY(release_xattr_block(fs, d));
        d.file_acl = target;
        d.blocks_512 += g.block_size / 512;
    }
    return {};
}

// The name's index and suffix; EOPNOTSUPP for a namespace ext4 does not store (and for
// system.data, inline data's own attribute).
struct Key {
    std::uint8_t index;
    std::string_view name;
};

Result<Key> key_of(std::string_view name) {
    static constexpr struct {
        std::string_view prefix;
        std::uint8_t index;
    } spaces[] = {{"user.", xattr_index_user},
                  {"trusted.", xattr_index_trusted},
                  {"security.", xattr_index_security}};
    if (name == "system.posix_acl_access")
        return Key{xattr_index_acl_access, {}};
    if (name == "system.posix_acl_default")
        return Key{xattr_index_acl_default, {}};
    for (const auto& s : spaces)
        if (name.starts_with(s.prefix)) {
            const std::string_view rest = name.substr(s.prefix.size());
            if (rest.empty())
                return Error::sys(EINVAL);
            if (rest.size() > 255)
                return Error::sys(ERANGE);
            return Key{s.index, rest};
        }
    if (name == "system.data")
        return Error::sys(EOPNOTSUPP, "ext2fs: system.data holds inline data and is not "
                                      "changed through the attribute interface");
    return Error::sys(EOPNOTSUPP,
                      fmt::format("ext2fs: no attribute namespace of ext4 stores {}", name));
}

}  // namespace

std::uint32_t xattr_entry_hash(std::string_view name, std::span<const std::byte> value) {
    std::uint32_t h = 0;
    for (const char c : name)
        h = (h << 5) ^ (h >> 27) ^ static_cast<unsigned char>(c);
    for (std::size_t i = 0; i < value.size(); i += 4) {
        std::uint32_t w = 0;
        for (std::size_t b = 0; b < 4 && i + b < value.size(); ++b)
            w |= std::to_integer<std::uint32_t>(value[i + b]) << (8 * b);
        h = (h << 16) ^ (h >> 16) ^ w;
    }
    return h;
}

std::uint32_t xattr_block_hash(std::span<const std::uint32_t> entry_hashes) {
    std::uint32_t h = 0;
    for (const std::uint32_t e : entry_hashes) {
        if (e == 0)
            return 0;
        h = (h << 16) ^ (h >> 16) ^ e;
    }
    return h;
}

std::uint32_t xattr_block_checksum(const Geometry& g, std::uint64_t block,
                                   std::span<const std::byte> bytes) {
    le64 nr;
    nr.set(block);
    std::uint32_t c = crc32c_update(g.csum_seed, std::as_bytes(std::span(&nr, 1)));
    c = crc32c_update(c, bytes.first(offsetof(XattrHeader, h_checksum)));
    constexpr std::byte zero[4]{};
    c = crc32c_update(c, zero);
    return crc32c_update(c, bytes.subspan(offsetof(XattrHeader, h_checksum) + 4));
}

Result<void> release_xattr_block(Ext2Fs& fs, InodeData& inode) {
    const Geometry& g = fs.geometry();
    if (inode.file_acl == 0)
        return {};
    const std::string what = fmt::format("{}: xattr block {}", inode.what(), inode.file_acl);
    io::BufRef buf = UKFS_TRY(fs.block(inode.file_acl, what));
    XattrHeader h = UKFS_TRY(ByteView(buf.data(), what).read<XattrHeader>(0));
    if (h.h_magic.get() != xattr_magic || h.h_refcount.get() == 0)
        return Error::corrupt(what, "has a bad magic or reference count");
    const std::uint64_t block = inode.file_acl;
    inode.file_acl = 0;
    inode.blocks_512 -= std::min<std::uint64_t>(inode.blocks_512, g.block_size / 512);
    if (h.h_refcount.get() == 1) {
        buf.reset();
        return fs.free_blocks(block, 1);
    }
    h.h_refcount.set(h.h_refcount.get() - 1);
    std::span<std::byte> bytes = buf.mark_dirty();
    std::memcpy(bytes.data(), &h, sizeof h);
    if (g.metadata_csum()) {
        h.h_checksum.set(xattr_block_checksum(g, block, bytes));
        std::memcpy(bytes.data(), &h, sizeof h);
    }
    return {};
}

Result<void> Ext2Vnode::change_xattr(std::uint8_t index, std::string_view name,
                                     const std::vector<std::byte>* value, vfs::XattrSet how,
                                     bool missing_ok) {
    const Geometry& g = m_fs.geometry();
    InodeData& d = m_inode;
    std::vector<Item> ibody = UKFS_TRY(ibody_items(d));
    BlockItems block = UKFS_TRY(block_items(m_fs, d));
    std::vector<Item> in_block = block.items;
    auto same = [&](const Item& it) { return it.index == index && it.name == name; };
    const auto erased_i = std::erase_if(ibody, same);
    const auto erased_b = std::erase_if(in_block, same);
    const bool exists = erased_i + erased_b > 0;
    if (how == vfs::XattrSet::create && exists)
        return Error::sys(EEXIST);
    if (how == vfs::XattrSet::replace && !exists)
        return Error::sys(ENODATA);
    if (value == nullptr && !exists)
        return missing_ok ? Result<void>{} : Error::sys(ENODATA);
    bool ibody_changed = erased_i > 0;
    bool block_changed = erased_b > 0;
    if (value != nullptr) {
        Item it{index, std::string(name), *value};
        ibody.push_back(it);
        if (fits_ibody(d.ibody_xattrs.size(), ibody)) {
            ibody_changed = true;
        } else {
            ibody.pop_back();
            in_block.insert(std::upper_bound(in_block.begin(), in_block.end(), it, block_order),
                            std::move(it));
            if (!fits_block(g.block_size, in_block))
                return Error::sys(ENOSPC, fmt::format("{}: the attribute fits neither in the "
                                                      "inode nor in the attribute block",
                                                      d.what()));
            block_changed = true;
        }
    }
    // What was read may not fit once re-encoded (entries sharing value bytes, say): refused
    // before anything is written.
    if ((ibody_changed && !fits_ibody(d.ibody_xattrs.size(), ibody)) ||
        (block_changed && !fits_block(g.block_size, in_block)))
        return Error::corrupt(d.what(), "its attributes overlap: they would not fit again");
    if (value != nullptr && !g.has_compat(compat_ext_attr))
        UKFS_TRY(m_fs.add_compat_feature(compat_ext_attr));  // as the kernel does
    if (block_changed)
        UKFS_TRY(store_block(m_fs, d, block, in_block));
    if (ibody_changed)
        encode_ibody(d, ibody);
    d.ctime = m_fs.now();
    return {};
}

Result<void> Ext2Vnode::setxattr(std::string_view name, std::span<const std::byte> value,
                                 vfs::XattrSet how) {
    if (m_fs.read_only())
        return Error::sys(EROFS);
    const Key key = UKFS_TRY(key_of(name));
    std::vector<std::byte> stored(value.begin(), value.end());
    if (key.index == xattr_index_acl_access || key.index == xattr_index_acl_default) {
        // The kernel's ACL handler: no create/replace flags, an empty value removes the ACL,
        // a default ACL only on a directory, an access ACL also sets the mode's permission bits
        // and is not stored when the mode says it all.
        const bool is_default = key.index == xattr_index_acl_default;
        if (is_default && m_inode.type != VType::dir)
            return value.empty() ? Result<void>{} : Error::sys(EACCES);
        if (value.empty())
            UKFS_TRY(change_xattr(key.index, key.name, nullptr, vfs::XattrSet::any, true));
        else {
            stored = UKFS_TRY(xattr_to_acl(value));
            const AclMode m = acl_mode(value);
            const bool keep = is_default || !m.equivalent;
            UKFS_TRY(change_xattr(key.index, key.name, keep ? &stored : nullptr, vfs::XattrSet::any,
                                  true));
            if (!is_default)
                m_inode.mode = static_cast<std::uint16_t>((m_inode.mode & ~0777u) | m.perms);
        }
    } else {
        UKFS_TRY(change_xattr(key.index, key.name, &stored, how, false));
    }
    return store();
}

Result<void> Ext2Vnode::removexattr(std::string_view name) {
    if (m_fs.read_only())
        return Error::sys(EROFS);
    const Key key = UKFS_TRY(key_of(name));
    const bool acl = key.index == xattr_index_acl_access || key.index == xattr_index_acl_default;
    UKFS_TRY(change_xattr(key.index, key.name, nullptr, vfs::XattrSet::any, acl));
    return store();
}

}  // namespace uk::ext2fs
