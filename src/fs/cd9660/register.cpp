// Registration of the cd9660 driver and its detector.
#include "fs/cd9660/register.hpp"

#include "fs/cd9660/fs.hpp"
#include "fs/cd9660/volume.hpp"

namespace uk::cd9660 {

int detect_cd9660(io::BlockDevice& dev) {
    if (!has_iso_signature(dev))
        return 0;
    // A whole descriptor set with a primary descriptor is ISO 9660's.
    return read_descriptor_set(dev, 0) ? 90 : 40;
}

void register_cd9660(vfs::Registry& registry) {
    vfs::Driver driver;
    driver.name = "cd9660";
    driver.needs_device = true;
    driver.detect = detect_cd9660;
    driver.mount = mount_cd9660;
    // add() fails only with EEXIST, when cd9660 is registered already: then nothing is to do.
    (void)registry.add(std::move(driver));
}

}  // namespace uk::cd9660
