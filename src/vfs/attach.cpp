// Attaching a file system to a device.
#include "vfs/attach.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

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

// Open `path`, cut it to the partition (or the extent already known), and lock that range:
// shared when read-only, exclusive otherwise.
Result<void> open_locked(DeviceResources& res, const std::string& path, const io::PartSpec& part,
                         const std::optional<io::Extent>& extent, bool read_only) {
    std::shared_ptr<io::BlockDevice> whole = UKFS_TRY(io::ImageFile::open(path, read_only));
    if (extent)
        res.device =
            UKFS_TRY(io::SliceDevice::make(std::move(whole), extent->offset, extent->size));
    else
        res.device = UKFS_TRY(io::open_partition(std::move(whole), part));
    res.lock = UKFS_TRY(io::RangeLock::acquire(*res.device, !read_only));
    return {};
}

Result<Driver> find_driver(std::string_view type) {
    std::optional<Driver> driver = Registry::global().find(type);
    if (!driver)
        return Error::sys(ENODEV, fmt::format("unknown file system type \"{}\"", type));
    return *driver;
}

// Create `path` as an empty file of `size` bytes, or set an existing regular file to that
// size; a block device keeps its own size.
Result<void> prepare_image(const std::string& path, std::uint64_t size) {
    if (size == 0)
        return {};
    if (size > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()))
        return Error::sys(EFBIG, fmt::format("{}: {} bytes is too large", path, size));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return Error::sys(errno, path);
    struct stat st {};
    int rc = ::fstat(fd, &st);
    if (rc == 0 && S_ISREG(st.st_mode))
        rc = ::ftruncate(fd, static_cast<off_t>(size));
    const int err = errno;
    ::close(fd);
    if (rc != 0)
        return Error::sys(err, path);
    return {};
}

}  // namespace

Result<void> set_device(AttachRequest& req, std::string_view device_with_selector) {
    std::size_t cut = 0;
    req.part = UKFS_TRY(io::parse_selector(device_with_selector, &cut));
    req.device_path = std::string(device_with_selector.substr(0, cut));
    return {};
}

Result<std::unique_ptr<Mount>> attach(const AttachRequest& req) {
    const bool read_only = (req.flags & mnt_rdonly) != 0;
    std::optional<Driver> driver;
    if (!req.type.empty())
        driver = UKFS_TRY(find_driver(req.type));

    auto resources = std::make_unique<DeviceResources>();
    if (!driver || driver->needs_device) {
        UKFS_TRY(open_locked(*resources, req.device_path, req.part, req.extent, read_only));
        if (!driver)
            driver = UKFS_TRY(Registry::global().detect(*resources->device));
    } else if (!driver) {
        return Error::sys(EINVAL, "no device to detect the file system type from");
    }

    for (const auto& p : req.params)
        if (std::find(driver->mount_params.begin(), driver->mount_params.end(), p.first) ==
            driver->mount_params.end())
            return Error::sys(EINVAL, fmt::format("unknown mount option \"{}\" for type {}",
                                                  p.first, driver->name));
    MountRequest mr;
    mr.device = resources->device;
    mr.flags = req.flags;
    mr.args = req.args;
    mr.args_len = req.args_len;
    mr.cache_budget = req.cache_budget;
    mr.clock = req.clock;
    mr.params = req.params;
    std::unique_ptr<FileSystem> fs = UKFS_TRY(driver->mount(mr));
    auto m = UKFS_TRY(Mount::create(std::move(fs), driver->name, req.flags, std::move(resources)));
    m->set_clock(req.clock);
    return m;
}

Result<void> format(std::string_view type, std::string_view device, std::uint64_t size,
                    const FormatParams& params) {
    const Driver driver = UKFS_TRY(find_driver(type));
    if (!driver.mkfs)
        return Error::sys(ENOTSUP, fmt::format("no mkfs for file system type \"{}\"", type));
    AttachRequest req;
    UKFS_TRY(set_device(req, device));
    UKFS_TRY(prepare_image(req.device_path, size));
    DeviceResources res;
    UKFS_TRY(open_locked(res, req.device_path, req.part, std::nullopt, false));
    UKFS_TRY(driver.mkfs(*res.device, params));
    return res.device->flush();
}

Result<int> check(std::string_view type, std::string_view device, const LineSink& out) {
    AttachRequest req;
    UKFS_TRY(set_device(req, device));
    DeviceResources res;
    UKFS_TRY(open_locked(res, req.device_path, req.part, std::nullopt, true));
    const Driver driver = type.empty() ? UKFS_TRY(Registry::global().detect(*res.device))
                                       : UKFS_TRY(find_driver(type));
    if (!driver.check)
        return Error::sys(ENOTSUP,
                          fmt::format("no checker for file system type \"{}\"", driver.name));
    return driver.check(*res.device, out);
}

}  // namespace uk::vfs
