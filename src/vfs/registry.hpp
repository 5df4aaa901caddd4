// The driver registry: file system types by NetBSD name, each with a mount function and an
// optional detector. Built-in drivers are registered at start-up; modules add more
// (ukfs_modload).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "io/block_device.hpp"
#include "vfs/vnode.hpp"

namespace uk::vfs {

// NetBSD mount flags that drivers look at (values from sys/fstypes.h, see ukfs/netbsd.h).
inline constexpr int mnt_rdonly = 0x00000001;
inline constexpr int mnt_noatime = 0x04000000;

struct MountRequest {
    // The device, already cut to the selected partition; null for a type that needs none
    // (tmpfs, mfs).
    std::shared_ptr<io::BlockDevice> device;
    int flags = 0;  // MNT_* (NetBSD values)
    // The type's NetBSD argument structure (struct tmpfs_args...), or null for defaults.
    const void* args = nullptr;
    std::size_t args_len = 0;
    // Memory the driver's buffer cache may use.
    std::size_t cache_budget = std::size_t{64} << 20;

    bool read_only() const { return (flags & mnt_rdonly) != 0; }
};

struct Driver {
    std::string name;  // NetBSD's: "ffs", "ext2fs", "msdos", "cd9660", "tmpfs", "mfs"
    bool needs_device = true;
    // How sure the driver is that `dev` holds its file system: 0 (no) to 100. May be empty.
    std::function<int(io::BlockDevice& dev)> detect;
    std::function<Result<std::unique_ptr<FileSystem>>(const MountRequest& req)> mount;
};

class Registry {
public:
    // The process-wide registry, with the built-in drivers registered.
    static Registry& global();

    // EEXIST when a driver of that name is registered.
    Result<void> add(Driver driver);
    std::optional<Driver> find(std::string_view name) const;
    std::vector<std::string> names() const;
    // The best-scoring driver for `dev`, or ENODEV naming the types tried.
    Result<Driver> detect(io::BlockDevice& dev) const;

private:
    mutable std::mutex m_lock;  // guards m_drivers
    std::vector<Driver> m_drivers;
};

}  // namespace uk::vfs
