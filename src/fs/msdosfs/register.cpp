// Registration of the msdos driver and its detector (boot sector signature + a sane BPB).
#include "fs/msdosfs/register.hpp"

#include "fs/msdosfs/fs.hpp"
#include "fs/msdosfs/mkfs.hpp"

namespace uk::msdosfs {

namespace {

// fsu mkfs -t msdos -o fat=32,cluster_size=4096,label=BOOT,...
Result<void> mkfs_params(io::BlockDevice& dev, const vfs::FormatParams& params) {
    MkfsOptions o;
    std::uint32_t cluster_size = 0;
    for (const auto& p : params) {
        if (p.first == "fat") {
            o.fat_type = static_cast<int>(UKFS_TRY(vfs::param_number(p, 12, 32)));
            if (o.fat_type != 12 && o.fat_type != 16 && o.fat_type != 32)
                return Error::sys(EINVAL, "msdos mkfs: fat must be 12, 16 or 32");
        } else if (p.first == "sector_size") {
            o.sector_size = static_cast<std::uint32_t>(UKFS_TRY(vfs::param_number(p, 512, 4096)));
        } else if (p.first == "cluster_size") {
            cluster_size = static_cast<std::uint32_t>(UKFS_TRY(vfs::param_number(p, 512, 65536)));
        } else if (p.first == "fats") {
            o.num_fats = static_cast<std::uint32_t>(UKFS_TRY(vfs::param_number(p, 1, 2)));
        } else if (p.first == "root_entries") {
            o.root_entries = static_cast<std::uint32_t>(UKFS_TRY(vfs::param_number(p, 16, 4096)));
        } else if (p.first == "label") {
            o.label = p.second;
        } else if (p.first == "volume_id") {
            o.volume_id = static_cast<std::uint32_t>(UKFS_TRY(vfs::param_number(p, 0, 0xFFFFFFFF)));
        } else {
            return vfs::unknown_param("msdos", p);
        }
    }
    if (cluster_size != 0) {
        const std::uint32_t sector =
            o.sector_size != 0 ? o.sector_size : std::max<std::uint32_t>(512, dev.sector_size());
        if (cluster_size % sector != 0)
            return Error::sys(EINVAL,
                              "msdos mkfs: cluster_size must be a multiple of the sector size");
        o.sectors_per_cluster = cluster_size / sector;
    }
    return mkfs(dev, o);
}

}  // namespace

void register_msdos(vfs::Registry& registry) {
    vfs::Driver driver;
    driver.name = "msdos";
    driver.needs_device = true;
    driver.detect = detect_msdos;
    driver.mount = mount_msdos;
    driver.mkfs = mkfs_params;
    // add() fails only with EEXIST, when msdos is registered already: then nothing is to do.
    (void)registry.add(std::move(driver));
}

}  // namespace uk::msdosfs
