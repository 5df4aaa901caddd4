// Registration of the msdos driver and its detector (boot sector signature + a sane BPB).
#include "fs/msdosfs/register.hpp"

#include "fs/msdosfs/fs.hpp"

namespace uk::msdosfs {

void register_msdos(vfs::Registry& registry) {
    vfs::Driver driver;
    driver.name = "msdos";
    driver.needs_device = true;
    driver.detect = detect_msdos;
    driver.mount = mount_msdos;
    // add() fails only with EEXIST, when msdos is registered already: then nothing is to do.
    (void)registry.add(std::move(driver));
}

}  // namespace uk::msdosfs
