// libFuzzer target for the msdos driver's write side: the input is a sequence of operations
// (create, write, truncate, mkdir, rmdir, unlink, rename, read) over a small pool of names, run
// on a FAT32 volume that uk::msdosfs::mkfs made in a MemoryDevice. Afterwards the volume is
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
constexpr std::size_t max_ops = 200;

const char* const names[] = {"a", "B.TXT", "long file name one", "Long File Name Two.dat",
                             "x.y.z", "d"};
const char* const dirs[] = {"", "/d", "/long file name one", "/d/d"};

std::string path_of(std::uint8_t sel) {
    return std::string(dirs[(sel >> 4) % 4]) + "/" + names[(sel & 0x0F) % 6];
}

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
        std::vector<std::byte> buf(1 << 15);
        for (std::size_t i = 0, ops = 0; i + 4 <= size && ops < max_ops; i += 4, ++ops) {
            const std::uint8_t op = data[i] % 9;
            const std::string p = path_of(data[i + 1]);
            const std::uint64_t arg = std::uint64_t{data[i + 2]} << 8 | data[i + 3];
            switch (op) {
            case 0:
                (void)m->create(p, 0644, false);
                break;
            case 1:
            case 2: {
                const std::size_t n = arg % buf.size();
                std::memset(buf.data(), data[i + 3], n);
                (void)m->write(p, arg * 7 % 200000, std::span(buf).first(n));
                break;
            }
            case 3:
                (void)m->truncate(p, arg * 3);
                break;
            case 4:
                (void)m->mkdir(p, 0755);
                break;
            case 5:
                (void)m->rmdir(p);
                break;
            case 6:
                (void)m->remove(p);
                break;
            case 7:
                (void)m->rename(p, path_of(data[i + 2]));
                break;
            default:
                (void)m->read(p, arg, buf);
                break;
            }
        }
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
