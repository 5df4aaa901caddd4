// The cd9660 driver's one entry point: everything else in src/fs/cd9660 is private to it.
#pragma once

#include "vfs/registry.hpp"

namespace uk::cd9660 {

// Register "cd9660": ISO 9660 (levels 1-3, multi-extent files) with Rock Ridge and Joliet,
// the last session of a multi-session image; always read-only (a read-write mount is EROFS).
// Mount arguments: a struct iso_args (ukfs/netbsd.h) or null; its flags are NetBSD's
// ISOFSMNT_* (NORRIP, NOJOLIET, GENS, NOCASETRANS, RRCASEINS; EXTATT is accepted and ignored).
void register_cd9660(vfs::Registry& registry);

// How sure we are that `dev` holds ISO 9660: "CD001" at byte 32769.
int detect_cd9660(io::BlockDevice& dev);

}  // namespace uk::cd9660
