// Extended attributes, shared by the read side (xattr.cpp), the write side (xattr_write.cpp) and
// the ACL conversions (xattr_acl.cpp). Facts: kernel ext4 attributes.rst and fs/ext4/xattr.h
// (name indexes, hashes), fs/ext4/acl.h (the compact ACL form). Private to the driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.hpp"
#include "base/result.hpp"
#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/inode.hpp"

namespace uk::ext2fs {

// e_name_index values (fs/ext4/xattr.h).
inline constexpr std::uint8_t xattr_index_user = 1;
inline constexpr std::uint8_t xattr_index_acl_access = 2;
inline constexpr std::uint8_t xattr_index_acl_default = 3;
inline constexpr std::uint8_t xattr_index_trusted = 4;
inline constexpr std::uint8_t xattr_index_security = 6;

// An entry's size in the entry table and a value's size in the value area: both 4-aligned.
inline constexpr std::size_t xattr_entry_len(std::size_t name_len) {
    return (sizeof(XattrEntry) + name_len + 3) & ~std::size_t{3};
}
inline constexpr std::size_t xattr_value_len(std::size_t size) {
    return (size + 3) & ~std::size_t{3};
}

// e_hash: the name's bytes, then the value as little-endian 32-bit words (zero-padded), each
// folded in by a rotate and xor (ext4_xattr_hash_entry; names as unsigned bytes).
std::uint32_t xattr_entry_hash(std::string_view name, std::span<const std::byte> value);
// h_hash: the entries' e_hash values folded together in table order; 0 when any is 0
// (ext4_xattr_rehash).
std::uint32_t xattr_block_hash(std::span<const std::uint32_t> entry_hashes);
// The attribute block's metadata_csum checksum: crc32c(fs seed, le64 block number, then the
// block with h_checksum taken as zero).
std::uint32_t xattr_block_checksum(const Geometry& g, std::uint64_t block,
                                   std::span<const std::byte> bytes);

// Drop the inode's reference to its attribute block (i_file_acl): the block is freed with its
// last reference, else its h_refcount is lowered. i_file_acl and i_blocks are updated in
// `inode`; the caller stores it.
Result<void> release_xattr_block(Ext2Fs& fs, InodeData& inode);

// ext4's ACL (version 1; short entries for the owner, group, mask and other) as a
// posix_acl_xattr value (version 2, every entry 8 bytes, no id: 0xFFFFFFFF). EIO naming `what`
// when malformed.
Result<std::vector<std::byte>> acl_to_xattr(ByteView v, const std::string& what);
// A posix_acl_xattr value (as setfacl gives it) in ext4's form, after the kernel's checks
// (posix_acl_valid: the entries in order, one owner, group and other, a mask when there are
// named entries, only rwx bits): EINVAL otherwise.
Result<std::vector<std::byte>> xattr_to_acl(std::span<const std::byte> value);
// For an access ACL (posix_acl_xattr form, valid): the permission bits it implies for the
// mode (owner, mask or else group, other), and whether the mode says it all (no named entries
// and no mask), in which case the kernel stores no attribute.
struct AclMode {
    std::uint16_t perms = 0;
    bool equivalent = false;
};
AclMode acl_mode(std::span<const std::byte> value);

}  // namespace uk::ext2fs
