// The ext2fs driver's one entry point: everything else in src/fs/ext2fs is private to it.
#pragma once

#include "vfs/registry.hpp"

namespace uk::ext2fs {

// Register "ext2fs" (ext2, ext3 and ext4 images; read-only for now). Mount arguments: a struct
// ext2fs_args (NetBSD's ufs_args) or null; its contents are ignored.
void register_ext2fs(vfs::Registry& registry);

// How sure we are that `dev` holds an ext2/3/4 file system: 0 to 100.
int detect_ext2fs(io::BlockDevice& dev);

}  // namespace uk::ext2fs
