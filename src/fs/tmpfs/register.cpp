// Registration of the tmpfs driver.
#include "fs/tmpfs/register.hpp"

#include "fs/tmpfs/tmpfs.hpp"

namespace uk::tmpfs {

void register_tmpfs(vfs::Registry& registry) {
    vfs::Driver driver;
    driver.name = "tmpfs";
    driver.needs_device = false;
    driver.mount = mount_tmpfs;
    // add() fails only with EEXIST, when tmpfs is registered already: then nothing is to do.
    (void)registry.add(std::move(driver));
}

}  // namespace uk::tmpfs
