// What the C API's opaque handles are: struct ukfs (a mount) and struct ukfs_dircookie (an
// open directory).
#pragma once

#include <memory>
#include <string>

#include <sys/stat.h>

#include "vfs/mount.hpp"

struct ukfs {
    std::unique_ptr<uk::vfs::Mount> mount;
    void* specific = nullptr;
    std::string devpath;
};

struct ukfs_dircookie {
    int fd;  // a descriptor of the mount, opened O_DIRECTORY
};

namespace uk::api {

// struct stat from a node's attributes; st_dev identifies the mount.
void attr_to_stat(const vfs::Attr& a, std::uint64_t dev, struct stat* st);

}  // namespace uk::api
