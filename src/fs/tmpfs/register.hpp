// The tmpfs driver's one entry point: everything else in src/fs/tmpfs is private to it.
#pragma once

#include "vfs/registry.hpp"

namespace uk::tmpfs {

// Register "tmpfs" (no device; struct tmpfs_args or null for defaults as mount arguments).
void register_tmpfs(vfs::Registry& registry);

}  // namespace uk::tmpfs
