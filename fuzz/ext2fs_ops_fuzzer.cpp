// libFuzzer target for the ext2fs driver's write side: the input is a sequence of operations
// (create, write, truncate, mkdir, rmdir, unlink, link, symlink, rename, chmod, read, set and
// remove extended attributes) over a small pool of names, run on an ext4 image in a MemoryDevice. The base images are made once by
// mke2fs (the reference maker) at start-up: a plain 1 KiB-block ext4, and the same with a
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
#include <cstdio>
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

constexpr std::size_t max_ops = 200;

std::vector<std::vector<std::byte>> g_images;  // the base images, made once

std::vector<std::byte> slurp(const std::string& path) {
    std::vector<std::byte> out;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr)
        return out;
    std::byte buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        out.insert(out.end(), buf, buf + n);
    std::fclose(f);
    return out;
}

bool sh(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

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

const char* const names[] = {"a", "f", "sub", "long-name-for-a-file-here", "x.y", "d"};
const char* const dirs[] = {"", "/sub", "/d", "/d/d"};

// Attribute names: in-inode or block placement follows from the value sizes the input picks.
const char* const xattr_names[] = {"user.a",    "user.a-longer-attribute-name", "security.selinux",
                                   "trusted.t", "system.posix_acl_access",      "user.b"};

std::string path_of(std::uint8_t sel) {
    return std::string(dirs[(sel >> 4) % 4]) + "/" + names[(sel & 0x0F) % 6];
}

std::unique_ptr<vfs::Mount> mount(std::shared_ptr<io::MemoryDevice> dev, bool ro) {
    return fuzz::mount_memory(ext2fs::mount_ext2fs, "ext2fs", std::move(dev), ro);
}

using fuzz::check;

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
        std::vector<std::byte> buf(1 << 15);
        for (std::size_t i = 1, ops = 0; i + 4 <= size && ops < max_ops; i += 4, ++ops) {
            const std::uint8_t op = data[i] % 14;
            const std::string p = path_of(data[i + 1]);
            const std::uint64_t arg = std::uint64_t{data[i + 2]} << 8 | data[i + 3];
            switch (op) {
            case 0: (void)m->create(p, 0644, false); break;
            case 1:
            case 2: {
                const std::size_t n = arg % buf.size();
                std::memset(buf.data(), data[i + 3], n);
                (void)m->write(p, arg * 13 % 300000, std::span(buf).first(n));
                break;
            }
            case 3: (void)m->truncate(p, arg * 5); break;
            case 4: (void)m->mkdir(p, 0755); break;
            case 5: (void)m->rmdir(p); break;
            case 6: (void)m->remove(p); break;
            case 7: (void)m->rename(p, path_of(data[i + 2])); break;
            case 8: (void)m->link(p, path_of(data[i + 2])); break;
            case 9: (void)m->symlink(std::string(arg % 100 + 1, 'l'), p); break;
            case 10: (void)m->chmod(p, arg & 07777, vfs::Follow::no); break;
            case 12: {
                const std::size_t n = arg % 1200;
                std::memset(buf.data(), data[i + 2], n);
                (void)m->setxattr(p, xattr_names[data[i + 3] % 6], std::span(buf).first(n),
                                  static_cast<vfs::XattrSet>(data[i + 2] % 3), vfs::Follow::no);
                break;
            }
            case 13: (void)m->removexattr(p, xattr_names[data[i + 3] % 6], vfs::Follow::no); break;
            default: (void)m->read(p, arg, buf); break;
            }
        }
        check(m->unmount(false).has_value());
    }
    auto m = mount(dev, true);
    auto& fs = static_cast<ext2fs::Ext2Fs&>(m->fs());
    check(!fs.needs_recovery());
    fuzz::strict_walk(*m, "/");
    for (int sel = 0; sel < 64; ++sel) {
        const std::string p = path_of(static_cast<std::uint8_t>(((sel << 2) & 0x30) | (sel % 6)));
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
