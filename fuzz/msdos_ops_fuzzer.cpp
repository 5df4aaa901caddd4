// libFuzzer target for the msdos driver's write side: the input is a sequence of operations
// (fuzz::run_ops; those FAT cannot hold fail) over a small pool of names, run on a FAT32 volume that uk::msdosfs::mkfs made in a MemoryDevice. Afterwards the volume is
// unmounted and mounted again read-only: it must mount, every listed node must stat and read,
// and the exact free count must equal what the FSInfo sector says (the driver keeps it exact).
// Errors from operations are fine (ENOSPC, ENOTEMPTY...); crashes, hangs and leaks are not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fs/msdosfs/fs.hpp"
#include "fs/msdosfs/mkfs.hpp"
#include "io/block_device.hpp"
#include "ops_harness.hpp"
#include "vfs/mount.hpp"

using namespace uk;

namespace {

constexpr std::uint64_t volume_bytes = std::uint64_t{3} << 20;
const fuzz::Paths paths{
    {"a", "B.TXT", "long file name one", "Long File Name Two.dat", "x.y.z", "d"},
    {"", "/d", "/long file name one", "/d/d"}};

std::unique_ptr<vfs::Mount> mount(std::shared_ptr<io::MemoryDevice> dev, bool ro) {
    return fuzz::mount_memory(msdosfs::mount_msdos, "msdos", std::move(dev), ro);
}

using fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto dev = std::make_shared<io::MemoryDevice>(volume_bytes);
    msdosfs::MkfsOptions o;
    o.fat_type = 32;
    o.sectors_per_cluster = 1;
    check(msdosfs::mkfs(*dev, o).has_value());
    {
        auto m = mount(dev, false);
        fuzz::run_ops(*m, std::span(data, size), paths);
        check(m->unmount(false).has_value());
    }
    auto m = mount(dev, true);
    fuzz::strict_walk(*m, "/");
    auto& fs = static_cast<msdosfs::Msdosfs&>(m->fs());
    const auto free_count = fs.count_free();
    check(free_count.has_value());
    std::uint32_t fsinfo;
    std::memcpy(&fsinfo, dev->bytes().data() + 512 + 488, 4);
    check(fsinfo == *free_count);
    check(m->unmount(false).has_value());
    return 0;
}
