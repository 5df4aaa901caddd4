// Read-write mounts, judged by others (ORACLES.md): the same operations run on an image through
// the driver and on a host directory (the model); after unmount, `e2fsck -fn` must find the
// image clean and an independent reader (a kernel loop mount, else debugfs rdump) must show
// the model's tree: names, types, modes, owners, sizes, link counts, mtimes, bytes, symlink
// targets and device numbers. Then a random operation sequence against the model.
#include <sys/mount.h>
#include <sys/time.h>

#include <map>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "common/model.hpp"
#include "image_support.hpp"

namespace uk::ext2fs::test {
namespace {

struct Variant {
    const char* name;
    const char* mkfs;
    bool index_dirs = false;  // e2fsck -fyD first: the "many" directory becomes a hash tree
    bool nsec = true;         // 256-byte inodes keep nanoseconds
};

const Variant variants[] = {
    {"ext4", "ext4"},
    {"ext2", "ext2"},
    {"ext3", "ext3"},
    {"ext4_1k", "ext4 -b 1024"},
    {"ext2_1k", "ext2 -b 1024"},
    {"ext4_no_csum", "ext4 -O ^metadata_csum"},
    {"ext4_no_csum_no_64bit", "ext4 -O ^metadata_csum,^64bit"},
    {"ext4_128", "ext4 -I 128", false, false},
    {"ext4_htree", "ext4", true},
    {"ext2_htree_1k", "ext2 -b 1024", true},
    {"ext4_meta_bg", "ext4 -O meta_bg,^resize_inode"},
    {"ext4_64k", "ext4 -b 65536 -N 4096"},
};

using uk::test::Both;

// Every path below `root`, parents before children.
std::vector<fs::path> host_paths(const fs::path& root) {
    std::vector<fs::path> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it)
        out.push_back(it->path());
    std::sort(out.begin(), out.end());
    return out;
}

// Fixed times on every node (children first, so a directory's own time is the last set).
void stamp_times(Both& both, const fs::path& model) {
    auto paths = host_paths(model);
    std::reverse(paths.begin(), paths.end());
    long k = 0;
    for (const fs::path& p : paths)
        both.utimes("/" + p.lexically_relative(model).string(),
                    timespec{1'600'000'000 + 1000 * k, 123'456'789 + k++});
    both.utimes("/", timespec{1'700'000'000, 987'654'321});
}

// Compare two host trees: what an independent reader shows against the model.
bool is_special(const fs::path& p) {
    const auto t = fs::symlink_status(p).type();
    return t == fs::file_type::fifo || t == fs::file_type::character || t == fs::file_type::block ||
           t == fs::file_type::socket;
}

// `rdump` true: `seen` came from debugfs rdump, which makes each hard link a copy, keeps times
// to the second and skips special files (those are checked with debugfs stat instead).
void compare_host_trees(const fs::path& model, const fs::path& seen, bool nsec, bool rdump = false,
                        const fs::path& img = {}) {
    const bool links = !rdump;
    std::vector<std::string> a, b;
    for (const fs::path& p : host_paths(model)) {
        const std::string rel = p.lexically_relative(model).string();
        if (rdump && is_special(p)) {
            const std::string out = capture("debugfs -R 'stat \"/" + rel + "\"' " + img.string());
            const char* kind = fs::symlink_status(p).type() == fs::file_type::fifo ? "Type: FIFO"
                               : fs::symlink_status(p).type() == fs::file_type::character
                                   ? "Type: character special"
                                   : "Type: block special";
            EXPECT_NE(out.find(kind), std::string::npos) << rel << ": " << out;
            continue;
        }
        a.push_back(rel);
    }
    for (const fs::path& p : host_paths(seen)) {
        const std::string rel = p.lexically_relative(seen).string();
        if (rel != "lost+found" && rel.rfind("lost+found/", 0) != 0)
            b.push_back(rel);
    }
    std::vector<std::string> only_a, only_b;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
    ASSERT_TRUE(only_a.empty() && only_b.empty())
        << "only in the model: " << fmt::format("{}", fmt::join(only_a, " "))
        << "; only in the image: " << fmt::format("{}", fmt::join(only_b, " "));
    for (const std::string& rel : a) {
        struct stat x {
        }, y{};
        ASSERT_EQ(::lstat((model / rel).c_str(), &x), 0);
        ASSERT_EQ(::lstat((seen / rel).c_str(), &y), 0);
        EXPECT_EQ(x.st_mode, y.st_mode) << rel;
        EXPECT_EQ(x.st_uid, y.st_uid) << rel;
        EXPECT_EQ(x.st_gid, y.st_gid) << rel;
        if (links) {
            EXPECT_EQ(x.st_nlink, y.st_nlink) << rel;
        }
        if (!rdump || !S_ISLNK(x.st_mode)) {  // rdump does not set a symlink's times
            EXPECT_EQ(x.st_mtim.tv_sec, y.st_mtim.tv_sec) << rel;
        }
        if (nsec) {
            EXPECT_EQ(x.st_mtim.tv_nsec, y.st_mtim.tv_nsec) << rel;
        }
        if (S_ISREG(x.st_mode)) {
            EXPECT_EQ(x.st_size, y.st_size) << rel;
            EXPECT_TRUE(read_host_file(model / rel) == read_host_file(seen / rel)) << rel;
        } else if (S_ISLNK(x.st_mode)) {
            EXPECT_EQ(fs::read_symlink(model / rel), fs::read_symlink(seen / rel)) << rel;
        } else if (S_ISCHR(x.st_mode) || S_ISBLK(x.st_mode)) {
            EXPECT_EQ(x.st_rdev, y.st_rdev) << rel;
        }
    }
}

// Read the image back with the kernel (loop mount) or, where mounting is not allowed, with
// debugfs' rdump (which keeps modes, owners and times to the second but makes each hard link a
// copy: link counts are then judged by e2fsck's pass 4 only).
void check_independently(const fs::path& img, const fs::path& model, const fs::path& scratch,
                         bool nsec) {
    const fs::path mnt = scratch / "mnt";
    fs::create_directories(mnt);
    if (run("mount -o loop,ro -t ext4 " + img.string() + " " + mnt.string()) == 0 ||
        run("mount -o loop,ro " + img.string() + " " + mnt.string()) == 0) {
        compare_host_trees(model, mnt, nsec);
        EXPECT_EQ(run("umount " + mnt.string()), 0);
        return;
    }
    std::cerr << "note: no kernel loop mount here; reading back with debugfs rdump\n";
    const fs::path out = scratch / "rdump";
    fs::create_directories(out);
    ASSERT_EQ(run("debugfs -R 'rdump / " + out.string() + "' " + img.string()), 0);
    // rdump writes each hard link as a copy and times to the second: compare the rest.
    compare_host_trees(model, out, false, true, img);
}

void expect_clean(const fs::path& img) {
    const std::string out = capture("e2fsck -fn " + img.string() + " 2>&1; echo rc=$?");
    EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
}

class Writes : public ::testing::TestWithParam<Variant> {
protected:
    void SetUp() override {
        if (!have_tool("mke2fs") || !have_tool("e2fsck"))
            GTEST_SKIP() << "e2fsprogs is not installed";
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root (owners and device nodes in the model tree)";
    }
};

TEST_P(Writes, OperationsMatchModel) {
    const Variant& v = GetParam();
    TempDir work;
    const fs::path img = work.path() / "img";
    const fs::path src = work.path() / "src";
    const fs::path model = work.path() / "model";
    fs::create_directories(src / "many");
    for (int i = 0; i < 400; ++i)
        write_host_file(src / "many" / fmt::format("entry-with-a-longish-name-{:05}", i),
                        pattern(static_cast<std::size_t>(i % 7), static_cast<std::uint32_t>(i)));
    write_host_file(src / "old", pattern(20000, 3));
    ASSERT_EQ(make_image(src, img, v.mkfs, "64M"), 0) << v.mkfs;
    if (v.index_dirs) {
        ASSERT_LE(run("e2fsck -fyD " + img.string()), 1);
    }
    ASSERT_EQ(run("cp -a " + src.string() + " " + model.string()), 0);
    {
        auto m = mount_image(img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        Both b(**m, model);
        b.mkdir("/a");
        b.mkdir("/a/b");
        b.mkdir("/a/b/c", 0700);
        b.write("/empty", 0, {});
        b.write("/one", 0, pattern(1, 1));
        for (std::size_t size : {4095u, 4096u, 4097u, 100000u, 3u << 20})
            b.write("/a/f" + std::to_string(size), 0,
                    pattern(size, static_cast<std::uint32_t>(size)));
        b.write("/a/sparse", 10u << 20, pattern(5000, 9));
        b.write("/a/sparse", 5000, pattern(100, 10));
        b.write("/a/f100000", 50000, pattern(70000, 11));  // overwrite and extend
        b.write("/old", 20000, pattern(9000, 12));         // append to an mke2fs file
        b.truncate("/a/f4097", 10);
        b.truncate("/a/f3145728", 1000000);
        b.truncate("/one", 300000);  // grow: a hole
        b.symlink("short/target", "/a/fast");
        b.symlink(std::string(300, 'x') + "/end", "/a/slow");
        b.link("/a/f4096", "/a/b/hard");
        b.mknod("/a/fifo", S_IFIFO | 0640, 0);
        b.mknod("/a/chr", S_IFCHR | 0600, makedev(4, 5));
        b.mknod("/a/blk", S_IFBLK | 0600, makedev(300, 70000));
        b.chmod("/a/f4095", 04751);
        b.chown("/a/f4095", 1234, 5678);
        b.chown("/a/b", 70000, 80000);
        b.rename("/a/f4096", "/a/renamed");      // same directory
        b.rename("/a/renamed", "/a/b/c/moved");  // across directories
        b.rename("/a/f100000", "/old");          // over an existing file
        b.mkdir("/d1");
        b.mkdir("/d1/sub");
        b.mkdir("/d2");
        b.rename("/d1/sub", "/d2/sub");  // a directory across parents
        b.mkdir("/d3");
        b.rename("/d2/sub", "/d3");  // over an empty directory
        b.remove("/a/f4095");
        b.rmdir("/d1");
        for (int i = 0; i < 300; ++i)
            b.write(fmt::format("/many/added-{:04}", i), 0,
                    pattern(10, static_cast<std::uint32_t>(i)));
        for (int i = 0; i < 400; i += 2)
            b.remove(fmt::format("/many/entry-with-a-longish-name-{:05}", i));
        for (int i = 0; i < 120; ++i)
            b.write(fmt::format("/a/b/c/n{:03}", i), 0,
                    pattern(static_cast<std::size_t>(i) * 37, static_cast<std::uint32_t>(i)));
        stamp_times(b, model);
        auto r = (*m)->unmount(false);
        ASSERT_TRUE(r) << r.error().describe();
    }
    expect_clean(img);
    check_independently(img, model, work.path(), v.nsec);
    // Read back through our own driver too.
    auto m = mount_image(img);
    ASSERT_TRUE(m) << m.error().describe();
    compare_tree(**m, model, v.nsec);
}

INSTANTIATE_TEST_SUITE_P(Mke2fs, Writes, ::testing::ValuesIn(variants),
                         [](const auto& info) { return std::string(info.param.name); });

// The clean flag: clear while mounted read-write, set again at release.
TEST(Ext2fsWrite, StateIsNotCleanWhileMounted) {
    if (!have_tool("mke2fs") || !have_tool("dumpe2fs"))
        GTEST_SKIP() << "e2fsprogs is not installed";
    TempDir work;
    fs::create_directory(work.path() / "src");
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(work.path() / "src", img, "ext4", "8M"), 0);
    auto state = [&] {
        return capture("dumpe2fs -h " + img.string() + " | grep '^Filesystem state:'");
    };
    EXPECT_NE(state().find(" clean"), std::string::npos);
    {
        auto m = mount_image(img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        EXPECT_NE(state().find("not clean"), std::string::npos) << state();
        ASSERT_TRUE((*m)->mkdir("/x", 0755));
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_EQ(state().find("not clean"), std::string::npos) << state();
    expect_clean(img);
    // A file system left not clean is refused for writing, and still mounts read-only.
    ASSERT_EQ(run("debugfs -w -R 'ssv state 0' " + img.string()), 0);
    auto rw = mount_image(img, std::size_t{8} << 20, true);
    ASSERT_FALSE(rw);
    EXPECT_EQ(rw.error().errnum(), EROFS);
    EXPECT_NE(rw.error().message().find("run e2fsck"), std::string::npos);
    EXPECT_TRUE(mount_image(img));
}

// Filling the file system: ENOSPC, and what was written stays consistent.
TEST(Ext2fsWrite, FullFileSystem) {
    if (!have_tool("mke2fs"))
        GTEST_SKIP() << "e2fsprogs is not installed";
    TempDir work;
    fs::create_directory(work.path() / "src");
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(work.path() / "src", img, "ext4 -b 1024", "4M"), 0);
    {
        auto m = mount_image(img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        const auto chunk = pattern(64 << 10, 1);
        ASSERT_TRUE((*m)->create("/big", 0644, true));
        Error last = Error::sys(0);
        for (std::uint64_t i = 0; i < 200; ++i) {
            auto r = (*m)->write("/big", i * chunk.size(), chunk);
            if (!r) {
                last = r.error();
                break;
            }
        }
        EXPECT_EQ(last.errnum(), ENOSPC) << last.describe();
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(img);
}

// Random operations against the model, then the same judges.
TEST(Ext2fsWrite, RandomOperations) {
    if (!have_tool("mke2fs") || geteuid() != 0)
        GTEST_SKIP() << "needs e2fsprogs and root";
    for (const char* mkfs : {"ext4", "ext2 -b 1024"}) {
        SCOPED_TRACE(mkfs);
        TempDir work;
        const fs::path img = work.path() / "img";
        const fs::path model = work.path() / "model";
        fs::create_directory(model);
        ASSERT_EQ(make_image(model, img, mkfs, "32M"), 0);
        std::mt19937 rng(12345);
        {
            auto m = mount_image(img, std::size_t{4} << 20, true);
            ASSERT_TRUE(m) << m.error().describe();
            Both b(**m, model);
            std::vector<std::string> files, dirs{"/"};
            auto pick = [&](auto& v) -> std::string { return v[rng() % v.size()]; };
            auto child = [&](const std::string& d, int k) {
                return (d == "/" ? "" : d) + "/n" + std::to_string(k);
            };
            for (int step = 0; step < 400; ++step) {
                const int op = static_cast<int>(rng() % 10);
                const std::string d = pick(dirs);
                const std::string name = child(d, step);
                if (op <= 3) {
                    const auto off = rng() % (1u << 20);
                    b.write(name, off, pattern(rng() % 20000, static_cast<std::uint32_t>(step)));
                    files.push_back(name);
                } else if (op == 4) {
                    b.mkdir(name);
                    dirs.push_back(name);
                } else if (op == 5 && !files.empty()) {
                    const std::string f = pick(files);
                    b.write(f, rng() % (2u << 20),
                            pattern(rng() % 9000, static_cast<std::uint32_t>(step)));
                } else if (op == 6 && !files.empty()) {
                    b.truncate(pick(files), rng() % 300000);
                } else if (op == 7 && !files.empty()) {
                    const std::size_t i = rng() % files.size();
                    b.remove(files[i]);
                    files.erase(files.begin() + static_cast<std::ptrdiff_t>(i));
                } else if (op == 8 && !files.empty()) {
                    const std::size_t i = rng() % files.size();
                    b.rename(files[i], name);
                    files[i] = name;
                } else if (!files.empty()) {
                    b.link(pick(files), name);
                    files.push_back(name);
                }
                if (HasFatalFailure())
                    return;
            }
            stamp_times(b, model);
            ASSERT_TRUE((*m)->unmount(false));
        }
        expect_clean(img);
        check_independently(img, model, work.path(), true);
    }
}

}  // namespace
}  // namespace uk::ext2fs::test
