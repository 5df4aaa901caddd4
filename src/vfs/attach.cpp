// Attaching a file system to a device.
#include "vfs/attach.hpp"

#include <fmt/format.h>

#include "io/partition/partition.hpp"
#include "io/partition/range_lock.hpp"
#include "vfs/registry.hpp"

namespace uk::vfs {

namespace {

// The device and its lock live as long as the mount.
struct DeviceResources final : MountResources {
    std::shared_ptr<io::BlockDevice> device;
    std::optional<io::RangeLock> lock;
};

}  // namespace

Result<void> set_device(AttachRequest& req, std::string_view device_with_selector) {
    std::size_t cut = 0;
    req.part = UKFS_TRY(io::parse_selector(device_with_selector, &cut));
    req.device_path = std::string(device_with_selector.substr(0, cut));
    return {};
}

Result<std::unique_ptr<Mount>> attach(const AttachRequest& req) {
    Registry& registry = Registry::global();
    const bool read_only = (req.flags & mnt_rdonly) != 0;
    std::optional<Driver> driver;
    if (!req.type.empty()) {
        driver = registry.find(req.type);
        if (!driver)
            return Error::sys(ENODEV, fmt::format("unknown file system type \"{}\"", req.type));
    }

    auto resources = std::make_unique<DeviceResources>();
    if (!driver || driver->needs_device) {
        std::shared_ptr<io::BlockDevice> whole =
            UKFS_TRY(io::ImageFile::open(req.device_path, read_only));
        if (req.extent)
            resources->device = UKFS_TRY(io::SliceDevice::make(std::move(whole), req.extent->offset,
                                                               req.extent->size));
        else
            resources->device = UKFS_TRY(io::open_partition(std::move(whole), req.part));
        resources->lock = UKFS_TRY(io::RangeLock::acquire(*resources->device, !read_only));
        if (!driver)
            driver = UKFS_TRY(registry.detect(*resources->device));
    } else if (!driver) {
        return Error::sys(EINVAL, "no device to detect the file system type from");
    }

    MountRequest mr;
    mr.device = resources->device;
    mr.flags = req.flags;
    mr.args = req.args;
    mr.args_len = req.args_len;
    mr.cache_budget = req.cache_budget;
    std::unique_ptr<FileSystem> fs = UKFS_TRY(driver->mount(mr));
    return Mount::create(std::move(fs), driver->name, req.flags, std::move(resources));
}

}  // namespace uk::vfs
