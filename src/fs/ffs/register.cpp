// Registration of the ffs driver and its detectors (the UFS1 or UFS2 magic where NetBSD
// searches, in either byte order; failing that, a superblock copy in cylinder group 1).
#include "fs/ffs/register.hpp"

#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/fs.hpp"
#include "fs/ffs/mfs.hpp"
#include "fs/ffs/newfs.hpp"
#include "fs/ffs/superblock.hpp"

namespace uk::ffs {

int detect_ffs(io::BlockDevice& dev) {
    auto found = find_superblock(dev);
    if (!found)
        return 0;
    return derive_geometry(*found, dev.size()) ? 90 : 40;
}

namespace {

// A file system whose primary superblock is gone but whose copy in cylinder group 1 validates:
// mounting it says how to use the copy.
int detect_ffs_copy(io::BlockDevice& dev) {
    return find_backup_geometry(dev) ? 30 : 0;
}

}  // namespace

void register_ffs(vfs::Registry& registry) {
    vfs::Driver driver;
    driver.name = "ffs";
    driver.needs_device = true;
    driver.detect = detect_ffs;
    driver.detect_damaged = detect_ffs_copy;
    driver.mount = mount_ffs;
    driver.mount_params = {"backup", "sb"};
    driver.mkfs = newfs_params;
    driver.check = [](io::BlockDevice& dev, const vfs::LineSink& out) -> Result<int> {
        const check::CheckResult r = UKFS_TRY(check::check(dev, check::CheckOptions{}, out));
        return r.exit_code;
    };
    // add() fails only with EEXIST, when ffs is registered already: then nothing is to do.
    (void)registry.add(std::move(driver));

    // mfs: a new ffs in memory, made at mount time.
    vfs::Driver mfs;
    mfs.name = "mfs";
    mfs.needs_device = false;
    mfs.mount = mount_mfs;
    (void)registry.add(std::move(mfs));
}

}  // namespace uk::ffs
