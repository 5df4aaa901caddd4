// The ffs driver's one entry point: everything else in src/fs/ffs is private to it (the
// Geometry in superblock.hpp is shared with the checker and newfs).
#pragma once

#include "vfs/registry.hpp"

namespace uk::ffs {

// Register "ffs" (UFS1 and UFS2 images in either byte order, read-write when safe: see
// fs.hpp). Mount arguments: a struct ufs_args or null; its contents are ignored. Also "mfs"
// (mfs.hpp): a new ffs in memory, made by newfs at mount time.
void register_ffs(vfs::Registry& registry);

// How sure we are that `dev` holds an FFS: 0 to 100.
int detect_ffs(io::BlockDevice& dev);

}  // namespace uk::ffs
