// Registration of the ext2fs driver and its detector (magic 0xEF53 at byte 1080).
#include "fs/ext2fs/register.hpp"

#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/mkfs.hpp"
#include "fs/ext2fs/superblock.hpp"

namespace uk::ext2fs {

int detect_ext2fs(io::BlockDevice& dev) {
    auto sb = read_superblock(dev);
    if (!sb)
        return 0;
    // The magic alone is two bytes; a superblock that also derives a geometry is ext2's.
    return derive_geometry(*sb, dev.size()) ? 90 : 40;
}

void register_ext2fs(vfs::Registry& registry) {
    vfs::Driver driver;
    driver.name = "ext2fs";
    driver.needs_device = true;
    driver.detect = detect_ext2fs;
    driver.mount = mount_ext2fs;
    driver.mkfs = mkfs_params;
    // add() fails only with EEXIST, when ext2fs is registered already: then nothing is to do.
    (void)registry.add(std::move(driver));
}

}  // namespace uk::ext2fs
