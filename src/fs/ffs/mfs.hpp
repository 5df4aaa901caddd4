// mfs (NetBSD's MOUNT_MFS): a new, empty FFS made by newfs on a memory device at mount time and
// mounted as ffs; its contents go when it is unmounted. Mount arguments: a struct mfs_args
// (its size, or 32 MiB when 0) or null.
#pragma once

#include <cstdint>
#include <memory>

#include "base/result.hpp"
#include "vfs/registry.hpp"

namespace uk::ffs {

inline constexpr std::uint64_t mfs_default_size = std::uint64_t{32} << 20;
inline constexpr std::uint64_t mfs_max_size = std::uint64_t{4} << 30;

Result<std::unique_ptr<vfs::FileSystem>> mount_mfs(const vfs::MountRequest& req);

}  // namespace uk::ffs
