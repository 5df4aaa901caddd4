// Test support for the msdos driver (see support.hpp).
#include "support.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/crc32c.hpp"

namespace uk::msdosfs::test {

int run(const std::string& cmd) {
    const int rc =
        std::system(("LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 " + cmd + " >/dev/null 2>&1").c_str());
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::string capture(const std::string& cmd) {
    // The group's standard error joins its output before host_tree's capture drops its own.
    return uk::test::capture("{ LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 " + cmd + "; } 2>&1");
}

bool have_tools() {
    for (const char* tool : {"mkfs.fat", "fsck.fat", "mcopy", "mdir", "mattrib"})
        if (run(std::string("command -v ") + tool) != 0)
            return false;
    return true;
}

void build_tree(const fs::path& root, bool big) {
    fs::create_directories(root);
    std::uint32_t seed = 1;
    const std::size_t sizes[] = {0, 1, 511, 512, 513, 4096, 5000, 65537};
    for (std::size_t s : sizes)
        write_host_file(root / fmt::format("file_{}.bin", s), pattern(s, seed++));
    if (big)
        write_host_file(root / "big.dat", pattern((std::size_t{1} << 20) + 77, seed++));
    write_host_file(root / "UPPER.TXT", pattern(10, seed++));
    write_host_file(root / "lower.txt", pattern(11, seed++));
    write_host_file(root / "Mixed Case Name.Text", pattern(12, seed++));
    write_host_file(root / "a very long file name that needs several lfn entries.txt",
                    pattern(300, seed++));
    write_host_file(root / "noext", pattern(7, seed++));
    write_host_file(root / "two.dots.in.name", pattern(8, seed++));
    fs::create_directories(root / "deep/er/and/deeper/still/going");
    write_host_file(root / "deep/er/and/deeper/still/going/leaf.txt", pattern(100, seed++));
    fs::create_directory(root / "empty dir");
    fs::create_directory(root / "many");
    for (int i = 0; i < 150; ++i)
        write_host_file(root / "many" / fmt::format("entry number {:03}.txt", i),
                        pattern(static_cast<std::size_t>(i * 13), seed++));
    // Fixed even-second mtimes, files only (mcopy -m keeps them for files).
    int i = 0;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file())
            continue;
        timespec t[2] = {{1'600'000'000 + 2 * i, 0}, {1'600'100'000 + 2 * i, 0}};
        utimensat(AT_FDCWD, e.path().c_str(), t, 0);
        ++i;
    }
}

int make_image(const fs::path& img, const std::string& options, std::uint64_t kib,
               const fs::path& src) {
    std::error_code ec;
    fs::remove(img, ec);
    int rc = run(fmt::format("mkfs.fat {} -C {} {}", options, img.string(), kib));
    if (rc != 0 || src.empty())
        return rc;
    return run(fmt::format("cd {} && mcopy -s -p -m -Q -i {} ./* ::/", src.string(), img.string()));
}

int fsck(const fs::path& img) {
    return run("fsck.fat -n " + img.string());
}

int mcopy_out(const fs::path& img, const fs::path& out) {
    fs::create_directories(out);
    return run(fmt::format("mcopy -s -n -m -Q -i {} '::/*' {}/", img.string(), out.string()));
}

Result<std::unique_ptr<vfs::Mount>> mount_image(const fs::path& img, bool read_only,
                                                const void* args, std::size_t args_len) {
    std::shared_ptr<io::BlockDevice> dev = UKFS_TRY(io::ImageFile::open(img.string(), read_only));
    vfs::MountRequest req;
    req.device = std::move(dev);
    req.flags = read_only ? vfs::mnt_rdonly : 0;
    req.args = args;
    req.args_len = args_len;
    req.cache_budget = std::size_t{4} << 20;
    std::unique_ptr<vfs::FileSystem> f = UKFS_TRY(mount_msdos(req));
    return vfs::Mount::create(std::move(f), "msdos", req.flags);
}

namespace {

std::set<std::string> list_dir(vfs::Mount& m, const std::string& path) {
    std::set<std::string> out;
    std::uint64_t cookie = 0;
    for (;;) {
        std::size_t got = 0;
        std::uint64_t next = cookie;
        auto r = m.readdir(path, cookie, [&](const vfs::DirEntry& e, std::uint64_t n) {
            EXPECT_FALSE(out.count(std::string(e.name))) << path << ": duplicate " << e.name;
            out.emplace(e.name);
            next = n;
            return ++got < 7;
        });
        EXPECT_TRUE(r) << path << ": " << r.error().describe();
        if (!r || got < 7)
            return out;
        cookie = next;
    }
}

}  // namespace

std::size_t compare_tree(vfs::Mount& m, const fs::path& src, bool mtimes) {
    std::size_t count = 0;
    std::vector<fs::path> dirs{src};
    while (!dirs.empty()) {
        const fs::path dir = dirs.back();
        dirs.pop_back();
        const std::string rel = dir == src ? "/" : "/" + dir.lexically_relative(src).string();
        std::set<std::string> want{".", ".."};
        for (const auto& e : fs::directory_iterator(dir))
            want.insert(e.path().filename().string());
        EXPECT_EQ(list_dir(m, rel), want) << rel;
        for (const auto& e : fs::directory_iterator(dir)) {
            const std::string path = (rel == "/" ? "" : rel) + "/" + e.path().filename().string();
            auto a = m.stat(path, vfs::Follow::no);
            EXPECT_TRUE(a) << path << ": " << a.error().describe();
            if (!a)
                continue;
            ++count;
            if (e.is_directory()) {
                EXPECT_EQ(a->type, vfs::VType::dir) << path;
                dirs.push_back(e.path());
                continue;
            }
            EXPECT_EQ(a->type, vfs::VType::reg) << path;
            EXPECT_EQ(a->size, e.file_size()) << path;
            if (mtimes) {
                struct stat st {};
                ::stat(e.path().c_str(), &st);
                EXPECT_EQ(a->mtime.tv_sec, st.st_mtim.tv_sec & ~std::time_t{1}) << path;
            }
            std::vector<std::byte> got(e.file_size() + 100);
            auto n = m.read(path, 0, got);
            EXPECT_TRUE(n) << path << ": " << n.error().describe();
            if (!n)
                continue;
            got.resize(*n);
            EXPECT_TRUE(got == read_host_file(e.path())) << path << ": contents differ";
        }
    }
    return count;
}

void compare_host_trees(const fs::path& want, const fs::path& got) {
    std::map<std::string, bool> a, b;
    for (const auto& e : fs::recursive_directory_iterator(want))
        a[e.path().lexically_relative(want).string()] = e.is_directory();
    for (const auto& e : fs::recursive_directory_iterator(got))
        b[e.path().lexically_relative(got).string()] = e.is_directory();
    EXPECT_EQ(a, b);
    for (const auto& [rel, is_dir] : a) {
        if (is_dir || !b.count(rel))
            continue;
        EXPECT_TRUE(read_host_file(want / rel) == read_host_file(got / rel)) << rel;
    }
}

}  // namespace uk::msdosfs::test
