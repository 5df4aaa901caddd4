// The C API's mount and release.
#include <ukfs/ukfs.h>

#include "api/c_call.hpp"
#include "api/handle.hpp"
#include "api/part.hpp"
#include "vfs/attach.hpp"
#include "vfs/registry.hpp"

using uk::Error;
using uk::Result;
using uk::api::c_call;

namespace {

Result<struct ukfs*> finish(uk::vfs::AttachRequest& req, const char* vfsname,
                            const char* devpath, int mntflags, void* arg, size_t alen) {
    req.type = vfsname;
    req.flags = mntflags;
    req.args = arg;
    req.args_len = alen;
    auto handle = std::make_unique<struct ukfs>();
    handle->mount = UKFS_TRY(uk::vfs::attach(req));
    handle->devpath = devpath;
    return handle.release();
}

}  // namespace

extern "C" {

// NetBSD's ukfs_mount takes the device path as it is (ukfs_part_na). We also honour a
// partition selector at its end, and lock the device's bytes in every case, so that two
// writers never share an image.
struct ukfs* ukfs_mount(const char* vfsname, const char* devpath, const char* mountpath,
                        int mntflags, void* arg, size_t alen) {
    (void)mountpath;  // no mount point: the file system lives in this process
    return c_call<struct ukfs*>([&]() -> Result<struct ukfs*> {
        if (vfsname == nullptr || devpath == nullptr)
            return Error::sys(EFAULT);
        uk::vfs::AttachRequest req;
        UKFS_TRY(uk::vfs::set_device(req, devpath));
        return finish(req, vfsname, devpath, mntflags, arg, alen);
    });
}

struct ukfs* ukfs_mount_disk(const char* vfsname, const char* devpath, struct ukfs_part* part,
                             const char* mountpath, int mntflags, void* arg, size_t alen) {
    if (uk::api::part_is_na(part))
        return ukfs_mount(vfsname, devpath, mountpath, mntflags, arg, alen);
    return c_call<struct ukfs*>([&]() -> Result<struct ukfs*> {
        if (vfsname == nullptr || devpath == nullptr)
            return Error::sys(EFAULT);
        uk::vfs::AttachRequest req;
        req.device_path = devpath;
        if (part != nullptr && part != ukfs_part_none) {
            req.part = part->spec;
            req.extent = part->extent;
        }
        return finish(req, vfsname, devpath, mntflags, arg, alen);
    });
}

int ukfs_release(struct ukfs* fs, int flags) {
    // On failure (EBUSY while files are open, without UKFS_RELFLAG_FORCE) the handle stays
    // valid, as NetBSD's.
    return c_call<int>([&]() -> Result<void> {
        if (fs == nullptr)
            return Error::sys(EINVAL);
        if (flags & UKFS_RELFLAG_NOUNMOUNT)
            UKFS_TRY(fs->mount->release_without_unmount());
        else
            UKFS_TRY(fs->mount->unmount((flags & UKFS_RELFLAG_FORCE) != 0));
        delete fs;
        return {};
    });
}

}  // extern "C"
