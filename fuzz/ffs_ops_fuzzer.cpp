// libFuzzer target for the ffs driver's write side: the input is a sequence of operations
// (create, write, truncate, mkdir, rmdir, unlink, link, symlink, rename, chmod, mknod, read, a
// switch between root's and a user's credentials) over a small pool of names, run on an FFS
// image in a MemoryDevice. The base images are made once by makefs (the reference maker) at
// start-up: a UFS1 little-endian image with 4 KiB blocks and a UFS2 big-endian one with 8 KiB
// blocks; the first byte picks one. Afterwards the image is unmounted, our checker (fsck_ffs'
// phases) must find it clean, and it must mount read-only with every listed node statting and
// reading. Errors from the operations are fine (ENOSPC, ENOTEMPTY...); crashes, hangs, leaks
// and an unclean result are not.
// Without makefs the inputs do nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
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

const char* const names[] = {"a", "f", "sub", "long-name-for-a-file-here", "x.y", "d"};
const char* const dirs[] = {"", "/sub", "/d", "/d/d"};

std::string path_of(std::uint8_t sel) {
    return std::string(dirs[(sel >> 4) % 4]) + "/" + names[(sel & 0x0F) % 6];
}

std::unique_ptr<vfs::Mount> mount(std::shared_ptr<io::MemoryDevice> dev, bool ro) {
    return fuzz::mount_memory(ffs::mount_ffs, "ffs", std::move(dev), ro);
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
                // Now and then far out: indirect blocks over holes.
                const std::uint64_t off = (arg & 1) != 0 ? arg * 4099 : arg * 13 % 300000;
                (void)m->write(p, off, std::span(buf).first(n));
                break;
            }
            case 3: (void)m->truncate(p, arg * 5); break;
            case 4: (void)m->mkdir(p, 0755); break;
            case 5: (void)m->rmdir(p); break;
            case 6: (void)m->remove(p); break;
            case 7: (void)m->rename(p, path_of(data[i + 2])); break;
            case 8: (void)m->link(p, path_of(data[i + 2])); break;
            case 9: (void)m->symlink(std::string(arg % 200 + 1, 'l'), p); break;
            case 10: (void)m->chmod(p, arg & 07777, vfs::Follow::no); break;
            case 11: (void)m->mknod(p, S_IFIFO | 0644, 0); break;
            case 12:  // a writer that is not root stops at the reserve (fs_minfree)
                m->set_cred((arg & 1) != 0 ? vfs::Cred{1000, 1000, {}} : vfs::Cred{});
                break;
            default: (void)m->read(p, arg, buf); break;
            }
        }
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
