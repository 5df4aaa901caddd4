// Directories: the bounded entry walker, lookup and readdir over classic, hash tree and inline
// directories. readdir reads a hash tree directory linearly (every entry lives in a leaf block);
// lookup in one goes through the index (htree.hpp).
// Private to the driver. Facts: kernel ext4 directory.rst, inline_data.rst.
//
// Cookies: for a block directory, a cookie is the byte position of an entry in the directory
// (block index * block size + offset in the block), as ext2's f_pos is; 0 starts. For an inline
// directory, 0 is ".", 1 is "..", and 2 + n is byte n of the inline entry area (i_block after
// the parent number, then the system.data value).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "base/result.hpp"
#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/inode.hpp"

namespace uk::ext2fs {

struct DirRecord {
    std::uint32_t inode;
    std::uint8_t file_type;  // ft_* (ft_unknown without the filetype feature)
    std::string_view name;   // valid during the visit only
    std::uint64_t next;      // the cookie after this entry
};

// Called per live entry (inode != 0) at or after the start cookie; false stops.
using RecordVisitor = std::function<Result<bool>(const DirRecord&)>;

// Walk the entries of `dir` from `cookie`. Each entry is checked before use (STYLE 1.2:
// rec_len at least 12, a multiple of 4, inside the block, room for the name; the inode number
// in range); EIO names the directory, block and offset.
Result<void> walk_dir(Ext2Fs& fs, const InodeData& dir, std::uint64_t cookie,
                      const RecordVisitor& visit);

// The inode number of entry `name` in `dir`, ENOENT when absent.
Result<InodeNo> dir_lookup(Ext2Fs& fs, const InodeData& dir, std::string_view name);

// readdir: "." and ".." first (they are the first entries of a block directory anyway).
Result<void> dir_list(Ext2Fs& fs, const InodeData& dir, std::uint64_t cookie,
                      const vfs::DirVisitor& visit);

// The entry at byte `off` of a directory block: its header and decoded rec_len, checked as
// walk_dir checks every entry.
struct EntryAt {
    DirEntryHeader h;
    std::uint32_t rec_len;
};
Result<EntryAt> entry_at(const Geometry& g, ByteView block, std::uint64_t off,
                         const std::string& where);

// With metadata_csum: check the dx_tail checksum of a hash tree node whose DxCountLimit sits
// at `count_offset`, and the DirEntryTail of a leaf block.
Result<void> verify_dx_node(const InodeData& dir, ByteView block, std::uint64_t count_offset,
                            const std::string& where);
Result<void> verify_leaf(const InodeData& dir, ByteView block, const std::string& where);
// dir_write.cpp (read-write mounts). Each changes `dir` (size, map) where it must; the caller
// sets the directory's times and stores it.
// Add entry `name` -> `ino` (absent: the VFS checked).
Result<void> dir_add(Ext2Fs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                     VType type);
// Remove entry `name`; ENOENT when absent.
Result<void> dir_remove(Ext2Fs& fs, InodeData& dir, std::string_view name);
// Point the existing entry `name` at `ino` (a rename over it, or ".." of a moved directory).
Result<void> dir_retarget(Ext2Fs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                          VType type);
// Whether `dir` holds nothing but "." and "..".
Result<bool> dir_is_empty(Ext2Fs& fs, const InodeData& dir);
// A new directory's first block, with "." and ".." (-> parent).
Result<void> dir_init(Ext2Fs& fs, InodeData& dir, std::uint32_t parent);

// Entry-writing helpers dir_write.cpp and htree.cpp share.
// The bytes an entry with a `name_len`-byte name takes (header and name, 4-aligned).
std::uint32_t entry_size(std::size_t name_len);
// The bytes of a leaf block that hold entries (the tail, with metadata_csum, excluded).
std::uint32_t leaf_usable(const Geometry& g);
std::uint16_t rec_len_to_disk(const Geometry& g, std::uint32_t len);
void set_rec_len(const Geometry& g, std::span<std::byte> block, std::uint32_t off,
                 std::uint32_t rec_len);
// Write the leaf tail and its checksum (metadata_csum; nothing otherwise).
void seal_leaf(const Geometry& g, const InodeData& dir, std::span<std::byte> block);
// Put entry `name` -> `ino` into the first gap of the leaf `buf` that holds it, and seal the
// leaf; false when no gap does.
Result<bool> put_in_leaf(const Geometry& g, const InodeData& dir, io::BufRef& buf,
                         const std::string& where, std::string_view name, std::uint32_t ino,
                         VType type);

// ft_* -> VType (none for ft_unknown or a value out of range).
VType file_type_to_vtype(std::uint8_t ft);

}  // namespace uk::ext2fs
