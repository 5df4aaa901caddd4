// mfs (see mfs.hpp): newfs as NetBSD's mount_mfs runs it (UFS1, newfs' defaults for the size)
// on a MemoryDevice, then the ffs mount of it.
#include "fs/ffs/mfs.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <ukfs/netbsd.h>

#include "fs/ffs/fs.hpp"
#include "fs/ffs/newfs.hpp"
#include "io/block_device.hpp"

namespace uk::ffs {

Result<std::unique_ptr<vfs::FileSystem>> mount_mfs(const vfs::MountRequest& req) {
    std::uint64_t size = mfs_default_size;
    if (req.args != nullptr) {
        // NetBSD's mfs_mount refuses a *data_len shorter than struct mfs_args with EINVAL.
        if (req.args_len < sizeof(mfs_args))
            return Error::sys(EINVAL, fmt::format("mfs: mount arguments of {} bytes, less than "
                                                  "struct mfs_args ({})",
                                                  req.args_len, sizeof(mfs_args)));
        mfs_args a{};
        std::memcpy(&a, req.args, sizeof a);
        if (a.size != 0)
            size = a.size;
    }
    if (size > mfs_max_size)
        return Error::sys(EINVAL,
                          fmt::format("mfs: size {} is larger than {}", size, mfs_max_size));
    auto dev = std::make_shared<io::MemoryDevice>(size);
    NewfsOptions o;
    o.version = 1;
    if (auto made = newfs(*dev, o); !made)
        return made.error().context("mfs: ");
    vfs::MountRequest r = req;
    r.device = std::move(dev);
    r.args = nullptr;
    r.args_len = 0;
    return mount_ffs(r);
}

}  // namespace uk::ffs
