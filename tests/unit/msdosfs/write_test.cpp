// Read-write tests: operations through the VFS on mkfs.fat images, mirrored in a host
// directory (the model); after each test fsck.fat -n must call the image clean and mcopy must
// read back the model's tree, names and bytes. A seeded random sequence of a few hundred
// operations does the same at scale.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "support.hpp"

namespace uk::msdosfs::test {
namespace {


struct WriteVariant {
    const char* name;
    const char* options;
    std::uint64_t kib;
};

const WriteVariant write_variants[] = {
    {"fat12", "-F 12", 4096},
    {"fat16", "-F 16 -s 2", 20480},
    {"fat32", "-F 32 -s 1", 40960},
    {"fat32_4k", "-F 32 -S 4096 -s 1", 270000},
    {"fat12_2k", "-F 12 -S 2048 -s 4", 8192},
};

class Write : public ::testing::TestWithParam<WriteVariant> {
protected:
    void SetUp() override {
        if (!have_tools())
            GTEST_SKIP() << "mkfs.fat / mtools are not installed";
        m_img = m_work.path() / "img";
        m_model = m_work.path() / "model";
        fs::create_directories(m_model);
        ASSERT_EQ(make_image(m_img, GetParam().options, GetParam().kib), 0);
    }
    // The checks after every read-write test: fsck clean, mcopy reads back the model.
    void check_image() {
        EXPECT_EQ(fsck(m_img), 0) << capture("fsck.fat -n " + m_img.string());
        const fs::path out = m_work.path() / "out";
        fs::remove_all(out);
        ASSERT_EQ(mcopy_out(m_img, out), 0);
        compare_host_trees(m_model, out);
    }
    void put(vfs::Mount& m, const std::string& path, std::uint64_t off,
             const std::vector<std::byte>& data) {
        auto w = m.write(path, off, data);
        ASSERT_TRUE(w) << path << ": " << w.error().describe();
        auto host = read_host_file(m_model / path.substr(1));
        if (host.size() < off + data.size())
            host.resize(off + data.size());
        std::copy(data.begin(), data.end(), host.begin() + static_cast<std::ptrdiff_t>(off));
        write_host_file(m_model / path.substr(1), host);
    }

    TempDir m_work;
    fs::path m_img, m_model;
};

TEST_P(Write, OperationsThenFsckAndMtools) {
    {
        auto mr = mount_image(m_img, false);
        ASSERT_TRUE(mr) << mr.error().describe();
        vfs::Mount& m = **mr;
        ASSERT_TRUE(m.create("/hello.txt", 0644, true));
        write_host_file(m_model / "hello.txt", {});
        put(m, "/hello.txt", 0, pattern(5, 1));
        ASSERT_TRUE(m.mkdir("/Dir With A Long Name", 0755));
        ASSERT_TRUE(m.mkdir("/d2", 0755));
        ASSERT_TRUE(m.mkdir("/d2/sub", 0755));
        fs::create_directories(m_model / "Dir With A Long Name");
        fs::create_directories(m_model / "d2/sub");
        // A file written in odd-sized pieces, then overwritten in the middle.
        ASSERT_TRUE(m.create("/Dir With A Long Name/big file.bin", 0644, true));
        write_host_file(m_model / "Dir With A Long Name/big file.bin", {});
        std::uint64_t off = 0;
        for (std::size_t n : {1u, 511u, 4096u, 70001u, 100000u, 3u}) {
            put(m, "/Dir With A Long Name/big file.bin", off, pattern(n, static_cast<std::uint32_t>(n)));
            off += n;
        }
        put(m, "/Dir With A Long Name/big file.bin", 1000, pattern(50000, 77));
        // A hole: written past the end, the gap reads as zeros.
        ASSERT_TRUE(m.create("/holey", 0644, true));
        write_host_file(m_model / "holey", {});
        put(m, "/holey", 123457, pattern(100, 5));
        std::vector<std::byte> gap(1000);
        ASSERT_TRUE(m.read("/holey", 5000, gap));
        EXPECT_TRUE(std::all_of(gap.begin(), gap.end(), [](std::byte b) { return b == std::byte{0}; }));
        // Truncation both ways.
        ASSERT_TRUE(m.truncate("/Dir With A Long Name/big file.bin", 70000));
        fs::resize_file(m_model / "Dir With A Long Name/big file.bin", 70000);
        ASSERT_TRUE(m.truncate("/hello.txt", 5000));
        fs::resize_file(m_model / "hello.txt", 5000);
        ASSERT_TRUE(m.create("/gone soon", 0644, true));
        put(m, "/gone soon", 0, pattern(9000, 9));
        ASSERT_TRUE(m.truncate("/gone soon", 0));
        fs::resize_file(m_model / "gone soon", 0);
        // Many entries: the directory grows by clusters.
        for (int i = 0; i < 120; ++i) {
            const std::string name = fmt::format("/d2/entry with long name {:03}.txt", i);
            ASSERT_TRUE(m.create(name, 0644, true)) << name;
            write_host_file(m_model / name.substr(1), {});
            if (i % 10 == 0)
                put(m, name, 0, pattern(static_cast<std::size_t>(i * 31), static_cast<std::uint32_t>(i)));
        }
        for (int i = 0; i < 120; i += 3) {
            const std::string name = fmt::format("/d2/entry with long name {:03}.txt", i);
            ASSERT_TRUE(m.remove(name)) << name;
            fs::remove(m_model / name.substr(1));
        }
        // rmdir: not empty, then empty.
        auto r = m.rmdir("/d2");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().errnum(), ENOTEMPTY);
        ASSERT_TRUE(m.mkdir("/empty", 0755));
        ASSERT_TRUE(m.rmdir("/empty"));
        // Renames: across directories, over an existing file, a directory moved (its ".."
        // changes), and back into the root.
        ASSERT_TRUE(m.rename("/hello.txt", "/d2/sub/Hello Again.TXT"));
        fs::rename(m_model / "hello.txt", m_model / "d2/sub/Hello Again.TXT");
        ASSERT_TRUE(m.rename("/holey", "/d2/entry with long name 001.txt"));
        fs::rename(m_model / "holey", m_model / "d2/entry with long name 001.txt");
        ASSERT_TRUE(m.rename("/d2/sub", "/Dir With A Long Name/moved"));
        fs::rename(m_model / "d2/sub", m_model / "Dir With A Long Name/moved");
        auto up = m.stat("/Dir With A Long Name/moved/..", vfs::Follow::no);
        auto dir = m.stat("/Dir With A Long Name", vfs::Follow::no);
        ASSERT_TRUE(up && dir);
        EXPECT_EQ(up->ino, dir->ino);
        ASSERT_TRUE(m.rename("/Dir With A Long Name/moved/Hello Again.TXT", "/back.txt"));
        fs::rename(m_model / "Dir With A Long Name/moved/Hello Again.TXT", m_model / "back.txt");
        // A renamed node keeps its number; a new file where it was gets another.
        auto before = m.stat("/back.txt", vfs::Follow::no);
        ASSERT_TRUE(m.rename("/back.txt", "/d2/back2.txt"));
        fs::rename(m_model / "back.txt", m_model / "d2/back2.txt");
        ASSERT_TRUE(m.create("/newcomer", 0644, true));
        write_host_file(m_model / "newcomer", {});
        auto after = m.stat("/d2/back2.txt", vfs::Follow::no);
        auto newcomer = m.stat("/newcomer", vfs::Follow::no);
        ASSERT_TRUE(before && after && newcomer);
        EXPECT_EQ(before->ino, after->ino);
        EXPECT_NE(newcomer->ino, after->ino);
        // chmod follows the read-only attribute; utimes keeps 2-second resolution.
        ASSERT_TRUE(m.chmod("/newcomer", 0444, vfs::Follow::yes));
        EXPECT_EQ(m.stat("/newcomer", vfs::Follow::no)->mode, 0555u & 0755u);
        ASSERT_TRUE(m.chmod("/newcomer", 0644, vfs::Follow::yes));
        EXPECT_EQ(m.stat("/newcomer", vfs::Follow::no)->mode, 0755u);
        ASSERT_TRUE(m.utimes("/newcomer", timespec{1'500'000'001, 0}, timespec{1'500'000'003, 5},
                             vfs::Follow::yes));
        EXPECT_EQ(m.stat("/newcomer", vfs::Follow::no)->mtime.tv_sec, 1'500'000'002);
        // What FAT cannot hold.
        EXPECT_EQ(m.symlink("x", "/link").error().errnum(), EOPNOTSUPP);
        EXPECT_EQ(m.link("/newcomer", "/hard").error().errnum(), EOPNOTSUPP);
        EXPECT_EQ(m.mknod("/fifo", S_IFIFO | 0644, 0).error().errnum(), EOPNOTSUPP);
        EXPECT_EQ(m.create("/a:b", 0644, true).error().errnum(), EINVAL);
        EXPECT_EQ(m.create("/trailing.", 0644, true).error().errnum(), EINVAL);
        // Case-insensitive names: another case finds the same file.
        EXPECT_EQ(m.create("/NEWCOMER", 0644, true).error().errnum(), EEXIST);
        compare_tree(m, m_model, false);
        ASSERT_TRUE(m.unmount(false));
    }
    check_image();
}

TEST_P(Write, ShortNamesAsWindowsMakesThem) {
    {
        auto mr = mount_image(m_img, false);
        ASSERT_TRUE(mr) << mr.error().describe();
        vfs::Mount& m = **mr;
        for (const char* n : {"longname.txt.bak", "Long Name One.txt", "Long Name Two.txt",
                              "lower.txt", "MiXeD.TxT", ".hidden", "a+b=c.txt"}) {
            ASSERT_TRUE(m.create(std::string("/") + n, 0644, true)) << n;
            write_host_file(m_model / n, {});
        }
        ASSERT_TRUE(m.unmount(false));
    }
    check_image();
    // mdir lists the short names mtools sees beside the long ones.
    const std::string listing = capture("mdir -a -i " + m_img.string() + " ::/");
    for (const char* s : {"LONGNA~1 BAK", "LONGNA~1 TXT", "LONGNA~2 TXT", "lower    txt",
                          "MIXED    TXT", "HIDDEN~1", "A_B_C~1  TXT"})
        EXPECT_NE(listing.find(s), std::string::npos) << s << "\n" << listing;
}

TEST_P(Write, RandomOperationsAgainstModel) {
    std::mt19937 rng(12345);
    // Names distinct under case folding, some 8.3, some long.
    std::vector<std::string> names;
    for (int i = 0; i < 12; ++i)
        names.push_back(i % 3 == 0 ? fmt::format("f{}.txt", i)
                                   : fmt::format("A Longer Name {} with spaces.data", i));
    std::vector<std::string> dirs{""};
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    {
        auto mr = mount_image(m_img, false);
        ASSERT_TRUE(mr) << mr.error().describe();
        vfs::Mount& m = **mr;
        for (int step = 0; step < 300; ++step) {
            const std::string dir = dirs[pick(dirs.size())];
            const std::string path = dir + "/" + names[pick(names.size())];
            const fs::path host = m_model / path.substr(1);
            const bool exists = fs::exists(host);
            const bool is_dir = exists && fs::is_directory(host);
            switch (pick(8)) {
            case 0:
            case 1: {  // create and write
                if (is_dir)
                    break;
                if (!exists) {
                    ASSERT_TRUE(m.create(path, 0644, true)) << path;
                    write_host_file(host, {});
                }
                const auto size = fs::file_size(host);
                const std::uint64_t off = pick(static_cast<std::size_t>(size) + 20000);
                put(m, path, off, pattern(pick(30000), static_cast<std::uint32_t>(step)));
                break;
            }
            case 2:  // truncate
                if (exists && !is_dir) {
                    const std::uint64_t size = pick(60000);
                    ASSERT_TRUE(m.truncate(path, size)) << path;
                    fs::resize_file(host, size);
                }
                break;
            case 3:  // mkdir
                if (!exists && dirs.size() < 8) {
                    ASSERT_TRUE(m.mkdir(path, 0755)) << path;
                    fs::create_directory(host);
                    dirs.push_back(path);
                }
                break;
            case 4:  // unlink or rmdir
                if (exists && !is_dir) {
                    ASSERT_TRUE(m.remove(path)) << path;
                    fs::remove(host);
                } else if (is_dir && fs::is_empty(host)) {
                    ASSERT_TRUE(m.rmdir(path)) << path;
                    fs::remove(host);
                    dirs.erase(std::find(dirs.begin(), dirs.end(), path));
                }
                break;
            case 5: {  // rename a file, maybe over another file
                const std::string to = dirs[pick(dirs.size())] + "/" + names[pick(names.size())];
                const fs::path hto = m_model / to.substr(1);
                if (!exists || is_dir || to == path || fs::is_directory(hto))
                    break;
                ASSERT_TRUE(m.rename(path, to)) << path << " -> " << to;
                fs::rename(host, hto);
                break;
            }
            default: {  // read back and compare
                if (!exists || is_dir)
                    break;
                const auto want = read_host_file(host);
                std::vector<std::byte> got(want.size() + 10);
                auto n = m.read(path, 0, got);
                ASSERT_TRUE(n) << path;
                got.resize(*n);
                ASSERT_TRUE(got == want) << path << " at step " << step;
            }
            }
        }
        compare_tree(m, m_model, false);
        auto s = m.statfs();
        ASSERT_TRUE(s);
        ASSERT_TRUE(m.unmount(false));
    }
    check_image();
}

TEST_P(Write, OpenFilesSurviveRenameAndUnlink) {
    {
        auto mr = mount_image(m_img, false);
        ASSERT_TRUE(mr) << mr.error().describe();
        vfs::Mount& m = **mr;
        ASSERT_TRUE(m.mkdir("/dir", 0755));
        fs::create_directory(m_model / "dir");
        auto fd = m.open("/some long name.bin", O_CREAT | O_RDWR, 0644);
        ASSERT_TRUE(fd) << fd.error().describe();
        ASSERT_TRUE(m.write_fd(*fd, 0, pattern(3000, 1), false));
        // Renamed while open: the descriptor keeps working on the moved entry.
        ASSERT_TRUE(m.rename("/some long name.bin", "/dir/moved.bin"));
        ASSERT_TRUE(m.write_fd(*fd, 3000, pattern(5000, 2), false));
        ASSERT_TRUE(m.close(*fd));
        auto host = pattern(3000, 1);
        const auto tail = pattern(5000, 2);
        host.insert(host.end(), tail.begin(), tail.end());
        write_host_file(m_model / "dir/moved.bin", host);
        // Unlinked while open: still readable and writable, its clusters freed at close.
        auto fd2 = m.open("/doomed", O_CREAT | O_RDWR, 0644);
        ASSERT_TRUE(fd2);
        ASSERT_TRUE(m.write_fd(*fd2, 0, pattern(20000, 3), false));
        const auto free_before = m.statfs()->bfree;
        ASSERT_TRUE(m.remove("/doomed"));
        ASSERT_TRUE(m.create("/newcomer", 0644, true));  // may take the freed entry
        write_host_file(m_model / "newcomer", {});
        ASSERT_TRUE(m.write_fd(*fd2, 20000, pattern(100, 4), false));
        std::vector<std::byte> buf(20100);
        auto n = m.read_fd(*fd2, 0, buf);
        ASSERT_TRUE(n);
        EXPECT_EQ(*n, 20100u);
        ASSERT_TRUE(m.close(*fd2));
        EXPECT_GT(m.statfs()->bfree, free_before);
        EXPECT_EQ(m.stat("/newcomer", vfs::Follow::no)->size, 0u);
        ASSERT_TRUE(m.unmount(false));
    }
    check_image();
}

INSTANTIATE_TEST_SUITE_P(Msdos, Write, ::testing::ValuesIn(write_variants),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace uk::msdosfs::test
