// An inode, loaded and validated: the decoded fields every operation needs, the raw i_block
// (block map, extent root, inline data or symlink target) and the in-inode extended attribute
// area. Private to the driver. Facts: kernel ext4 inodes.rst, attributes.rst.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "fs/ext2fs/format.hpp"
#include "fs/ext2fs/fs.hpp"

namespace uk::ext2fs {

struct InodeData {
    std::uint32_t ino = 0;
    VType type = VType::none;
    std::uint16_t mode = 0;  // the whole i_mode, type bits included
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint16_t links = 0;
    std::uint64_t size = 0;
    std::uint64_t blocks_512 = 0;  // i_blocks in 512-byte units (huge_file rules applied)
    std::uint32_t flags = 0;       // i_flags
    std::uint32_t generation = 0;
    std::uint64_t file_acl = 0;  // the xattr block, 0 for none
    timespec atime{}, mtime{}, ctime{}, crtime{};
    std::array<std::byte, i_block_bytes> i_block{};
    std::vector<std::byte> ibody_xattrs;  // after 128 + i_extra_isize, up to s_inode_size
    std::uint32_t csum_seed = 0;          // inode_csum_seed(), for extent and dir checksums
    std::uint32_t extra_isize = 0;        // i_extra_isize: large-inode fields present
    std::uint32_t dtime = 0;              // i_dtime: deletion time (or orphan list link)

    bool has_flag(std::uint32_t f) const { return (flags & f) != 0; }
    bool uses_extents() const { return has_flag(inode_extents_fl); }
    bool inline_data() const { return has_flag(inode_inline_data_fl); }
    // A symlink whose target lives in i_block (e2fsprogs' rule: shorter than i_block).
    bool fast_symlink() const {
        return type == VType::lnk && !inline_data() && size < i_block_bytes;
    }
    // i_block[n] as a little-endian block number.
    std::uint32_t i_block_word(std::size_t n) const;
    // "ext2fs: inode 12" for messages.
    std::string what() const;
};

// Load inode `ino`: range, group and checksum checks, then decode. EIO naming the inode for
// anything wrong (a free inode, a bad mode, a checksum mismatch).
// `reserved`: an inode below s_first_ino may be asked for (the journal's); otherwise that is
// an error, as no directory entry may name one.
Result<InodeData> load_inode(Ext2Fs& fs, std::uint64_t ino, bool reserved = false);

// Write `inode`'s fields and its in-inode attribute area back into its slot of the inode table
// (the fields this driver does not model stay as they are) and set its checksum.
Result<void> store_inode(Ext2Fs& fs, const InodeData& inode);

// A newly allocated inode `ino`: its slot zeroed, then the node described by `mode`, owner and
// times set (now), extents on where the feature is (for files, directories and slow symlinks;
// the caller decides by `extents`). Not yet stored: the caller fills i_block and stores it.
Result<InodeData> new_inode(Ext2Fs& fs, std::uint32_t ino, std::uint16_t mode, std::uint32_t uid,
                            std::uint32_t gid, bool extents);

// The value of the in-inode extended attribute (index, name), or nullopt-like empty result with
// `found` false. EIO when the attribute area is malformed.
struct XattrValue {
    bool found = false;
    std::vector<std::byte> value;
};
Result<XattrValue> find_ibody_xattr(const InodeData& inode, std::uint8_t index,
                                    std::string_view name);

}  // namespace uk::ext2fs
