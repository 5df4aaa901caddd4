// Directories: the bounded entry walker over DIRBLKSIZ chunks, lookup and readdir. Private to
// the driver. Facts: NetBSD sys/ufs/ufs/dir.h, ufs_lookup.c (ufs_dirbadentry's checks).
//
// Cookies: the byte position of an entry in the directory; 0 starts.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "base/result.hpp"
#include "fs/ffs/fs.hpp"
#include "fs/ffs/inode.hpp"

namespace uk::ffs {

struct DirRecord {
    std::uint32_t ino;
    std::uint8_t type;      // d_type (dt_unknown in the 4.2BSD format)
    std::string_view name;  // valid during the visit only; not checked for '/' or NUL
    std::uint64_t at;       // the entry's byte position
    std::uint64_t next;     // the cookie after this entry
};

// Called per live entry (ino != 0, not a whiteout) at or after the start cookie; false stops.
using RecordVisitor = std::function<Result<bool>(const DirRecord&)>;

// Walk the entries of `dir` from `cookie`. Every entry of each chunk read is checked before
// use (d_reclen a multiple of 4, room for the name, inside the chunk; d_namlen at most 255; the
// inode number in range); EIO names the directory and offset. dir_list also refuses a name
// holding NUL or '/'.
Result<void> walk_dir(FfsFs& fs, const InodeData& dir, std::uint64_t cookie,
                      const RecordVisitor& visit);

// The inode number of entry `name` in `dir`, ENOENT when absent.
Result<InodeNo> dir_lookup(FfsFs& fs, const InodeData& dir, std::string_view name);

// readdir ("." and ".." are the first entries on disk).
Result<void> dir_list(FfsFs& fs, const InodeData& dir, std::uint64_t cookie,
                      const vfs::DirVisitor& visit);

// dir_write.cpp. Add entry `name` -> `ino` (the caller checked it is absent): into free space
// of a chunk, compacting the chunk if its space is scattered, else in a new chunk at the end.
Result<void> dir_add(FfsFs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                     VType type);
// Remove entry `name` (ENOENT when absent).
Result<void> dir_remove(FfsFs& fs, InodeData& dir, std::string_view name);
// Point entry `name` at another inode (rename over a target, a moved directory's "..").
Result<void> dir_retarget(FfsFs& fs, InodeData& dir, std::string_view name, std::uint32_t ino,
                          VType type);
// Whether `dir` holds nothing but "." and "..".
Result<bool> dir_is_empty(FfsFs& fs, const InodeData& dir);
// A new directory's first chunk: "." and "..".
Result<void> dir_init(FfsFs& fs, InodeData& dir, std::uint32_t parent);
std::uint8_t vtype_to_dtype(VType t);

// d_type -> VType (none for DT_UNKNOWN or a value out of range).
VType dtype_to_vtype(std::uint8_t t);

}  // namespace uk::ffs
