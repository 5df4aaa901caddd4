// libFuzzer target for the ext2fs driver's write side: the input is a sequence of operations
// (fuzz::run_ops: every tree-changing operation, extended attributes set and removed, reads)
// over a small pool of names, run on an ext4 image in a MemoryDevice. The base images are made
// once by mke2fs (the reference maker) at start-up: a plain 1 KiB-block ext4, and the same with a
// committed journal transaction still to recover (debugfs' journal writer), so the first byte
// also picks whether the read-write mount replays a journal first. Afterwards the image is
// unmounted and mounted again read-only: it must mount, must no longer need recovery, and every
// listed node must stat and read, and every attribute of the pool's nodes must list and read;
// statfs must stay within the file system. Errors from the
// operations are fine (ENOSPC, ENOTEMPTY...); crashes, hangs and leaks are not.
// Without mke2fs (or debugfs' journal writer) the inputs run on what could be made, or not at all.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fs/ext2fs/fs.hpp"
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
    char dir[] = "/tmp/ukfs-ext2fs-ops-XXXXXX";
    if (mkdtemp(dir) == nullptr)
        return;
    const std::string d = dir;
    const std::string img = d + "/img";
    if (sh("mkdir -p " + d + "/src/sub && printf hi > " + d + "/src/f && head -c 5000 " +
           "/dev/zero | tr '\\0' x > " + d + "/src/sub/g && mke2fs -q -F -t ext4 -b 1024 " +
           "-N 128 -J size=1 -d " + d + "/src -E root_owner=0:0 " + img + " 3M")) {
        g_images.push_back(slurp(img));
        const std::string cmds = d + "/cmds";
        if (sh("head -c 2048 /dev/urandom > " + d + "/data && b=$(debugfs -R 'bmap /sub/g 0' " +
               img + ") && printf 'jo -c\\njw -b %s,3000 " + d + "/data\\njc\\n' \"$b\" > " + cmds +
               " && debugfs -w -f " + cmds + " " + img))
            g_images.push_back(slurp(img));
    }
    sh("rm -rf " + d);
}

const fuzz::Paths paths{{"a", "f", "sub", "long-name-for-a-file-here", "x.y", "d"},
                        {"", "/sub", "/d", "/d/d"}};

std::unique_ptr<vfs::Mount> mount(std::shared_ptr<io::MemoryDevice> dev, bool ro) {
    return fuzz::mount_memory(ext2fs::mount_ext2fs, "ext2fs", std::move(dev), ro);
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
    auto m = mount(dev, true);
    auto& fs = static_cast<ext2fs::Ext2Fs&>(m->fs());
    check(!fs.needs_recovery());
    fuzz::strict_walk(*m, "/");
    for (int sel = 0; sel < 64; ++sel) {
        const std::string p = paths.of(static_cast<std::uint8_t>(((sel << 2) & 0x30) | (sel % 6)));
        if (!m->stat(p, vfs::Follow::no))
            continue;
        auto names = m->listxattr(p, vfs::Follow::no);
        check(names.has_value());
        for (const std::string& n : *names)
            check(m->getxattr(p, n, vfs::Follow::no).has_value());
    }
    auto st = fs.statfs();
    check(st.has_value() && st->bfree <= st->blocks && st->ffree <= st->files);
    check(m->unmount(false).has_value());
    return 0;
}
