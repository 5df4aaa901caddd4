// A driver module for the module tests: registers "modfs", which is tmpfs under another name.
#include <cerrno>

#include "vfs/registry.hpp"

extern "C" int ukfs_module_init(uk::vfs::Registry* registry) {
    auto tmpfs = registry->find("tmpfs");
    if (!tmpfs)
        return ENOENT;
    uk::vfs::Driver d = *tmpfs;
    d.name = "modfs";
    auto added = registry->add(std::move(d));
    return added ? 0 : added.error().errnum();
}
