// The msdos driver's one entry point: everything else in src/fs/msdosfs is private to it
// (mkfs.hpp aside, for the tools).
#pragma once

#include "vfs/registry.hpp"

namespace uk::msdosfs {

// Register "msdos" (FAT12, FAT16 and FAT32, read-write). Mount arguments: a struct
// msdosfs_args (ukfs/netbsd.h) or null for the defaults (owner 0:0, masks 0755, local time).
void register_msdos(vfs::Registry& registry);

}  // namespace uk::msdosfs
