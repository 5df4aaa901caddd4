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
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "io/block_device.hpp"
#include "vfs/vnode.hpp"

namespace uk::vfs {

// NetBSD mount flags that drivers look at (values from sys/fstypes.h, see ukfs/netbsd.h).
inline constexpr int mnt_rdonly = 0x00000001;
inline constexpr int mnt_async = 0x00000040;  // writes unordered, no flushes between them
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
    // The time and seed the driver's writes use (see Clock).
    Clock clock{};
    // The type's own mount options (fsu -o), `key=value` or a bare `key` (value ""), in the
    // order given. attach() has refused keys not in the driver's Driver::mount_params.
    std::vector<std::pair<std::string, std::string>> params;

    bool read_only() const { return (flags & mnt_rdonly) != 0; }
    // Whether writes keep their order (io::CacheOptions::ordered): all but MNT_ASYNC mounts.
    bool ordered_writes() const { return (flags & mnt_async) == 0; }
};

// A type's own parameters for making a file system, `key=value` words (fsu mkfs -o), in the
// order given. The driver checks them: an unknown key or a bad value is EINVAL naming it.
using FormatParams = std::vector<std::pair<std::string, std::string>>;
// Where a checker writes its report, a line at a time (without the newline).
using LineSink = std::function<void(std::string_view line)>;

// A parameter's value as a number in [min, max]: decimal, or hexadecimal after 0x; a k, m or g
// suffix multiplies by 1024s. EINVAL names the parameter.
Result<std::uint64_t> param_number(const FormatParams::value_type& param, std::uint64_t min,
                                   std::uint64_t max);
// EINVAL naming a parameter the type does not know.
Error unknown_param(std::string_view type, const FormatParams::value_type& param);

struct Driver {
    std::string name;  // NetBSD's: "ffs", "ext2fs", "msdos", "cd9660", "tmpfs", "mfs"
    bool needs_device = true;
    // How sure the driver is that `dev` holds its file system: 0 (no) to 100. May be empty.
    std::function<int(io::BlockDevice& dev)> detect;
    // A second, slower look, made only when no detector recognised the device: a file system
    // whose primary structure is destroyed but whose copy survives (FFS's superblock copies).
    // Scored as `detect`; mounting then says what the driver offers for it. May be empty.
    std::function<int(io::BlockDevice& dev)> detect_damaged;
    std::function<Result<std::unique_ptr<FileSystem>>(const MountRequest& req)> mount;
    // The keys of the type's own mount options (MountRequest::params); others are refused.
    std::vector<std::string> mount_params;
    // Write a new, empty file system over the whole of `dev`. Empty for a type that has no
    // mkfs.
    std::function<Result<void>(io::BlockDevice& dev, const FormatParams& params)> mkfs;
    // Check the file system on `dev` without writing a byte, reporting to `out`; the result is
    // the exit status the type's fsck would give (0 clean). Empty for a type with no checker.
    std::function<Result<int>(io::BlockDevice& dev, const LineSink& out)> check;
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
