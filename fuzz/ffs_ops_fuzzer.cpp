// libFuzzer target for the ffs driver's write side: the input is a sequence of operations
// (fuzz::run_ops: every tree-changing operation, reads, and switches between root's and a
// user's credentials, so that a user's writes stop at the fs_minfree reserve) over a small pool
// of names, run on an FFS image in a MemoryDevice. The base images are made once by makefs
// (the reference maker) at start-up: a UFS1 little-endian image with 4 KiB blocks and a UFS2
// big-endian one with 8 KiB blocks; the first byte picks one. Afterwards the image is
// unmounted, our checker (fsck_ffs' phases) must find it clean, and it must mount read-only
// with every listed node statting and reading. Errors from the operations are fine (ENOSPC,
// ENOTEMPTY...); crashes, hangs, leaks and an unclean result are not.
// Without makefs the inputs do nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/fs.hpp"
#include "io/block_device.hpp"
#include "ops_harness.hpp"
#include "vfs/mount.hpp"

using namespace uk;

namespace {

using fuzz::check;
using fuzz::sh;
using fuzz::slurp;

std::vector<std::vector<std::byte>> g_images;  // the base images, made once

void make_images() {
    char dir[] = "/tmp/ukfs-ffs-ops-XXXXXX";
    if (mkdtemp(dir) == nullptr)
        return;
    const std::string d = dir;
    const std::string img = d + "/img";
    if (!sh("mkdir -p " + d + "/src/sub && printf hi > " + d + "/src/f && head -c 5000 " +
            "/dev/zero | tr '\\0' x > " + d + "/src/sub/g"))
        return;
    for (const char* opts :
         {"-o version=1 -B le -b 4096 -f 512 -s 3m", "-o version=2 -B be -b 8192 -f 1024 -s 4m"})
        if (sh("rm -f " + img + " && makefs -t ffs " + opts + " " + img + " " + d + "/src"))
            g_images.push_back(slurp(img));
    sh("rm -rf " + d);
}

const fuzz::Paths paths{{"a", "f", "sub", "long-name-for-a-file-here", "x.y", "d"},
                        {"", "/sub", "/d", "/d/d"}};

std::unique_ptr<vfs::Mount> mount(std::shared_ptr<io::MemoryDevice> dev, bool ro) {
    return fuzz::mount_memory(ffs::mount_ffs, "ffs", std::move(dev), ro);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    make_images();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (g_images.empty() || size == 0)
        return 0;
    auto dev = std::make_shared<io::MemoryDevice>(g_images[data[0] % g_images.size()]);
    {
        auto m = mount(dev, false);
        fuzz::run_ops(*m, std::span(data, size).subspan(1), paths);
        check(m->unmount(false).has_value());
    }
    {
        auto r = ffs::check::check(*dev, {}, [](std::string_view) {});
        check(r.has_value() && r->exit_code == 0 && r->problems.empty());
    }
    auto m = mount(dev, true);
    fuzz::strict_walk(*m, "/");
    auto st = m->fs().statfs();
    check(st.has_value() && st->bfree <= st->blocks && st->ffree <= st->files);
    check(m->unmount(false).has_value());
    return 0;
}
