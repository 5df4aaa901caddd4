// The mount's clock (MountOptions::time and seed) through the C++ API on every type with a
// mkfs: each time a write stamps is the given time, whatever the host's clock says, and the
// same writes with the same time and seed give the same image bytes; another seed, other bytes
// (ext2fs and ffs, whose inode generation numbers start from it).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <ukfs/ukfs.hpp>

namespace {

constexpr time_t fixed = 1600000000;  // 2020-09-13, long before any test run

struct Case {
    const char* name;
    const char* type;
    std::vector<std::pair<std::string, std::string>> params;
    bool seeded;  // mkfs takes time= and seed=, and the mount draws generation numbers
};

class Clock : public ::testing::TestWithParam<Case> {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ukfs_clock.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
    }
    void TearDown() override {
        for (const char* f : {"/a.img", "/b.img"})
            std::remove((dir + f).c_str());
        ::rmdir(dir.c_str());
    }

    // Make an image and write a little into it with the clock fixed; the image's bytes.
    std::string build(const std::string& path, std::uint64_t seed) {
        const Case& c = GetParam();
        uk::MkfsOptions mo;
        mo.size = std::string_view(c.type) == "msdos" ? 40 << 20 : 16 << 20;  // FAT32: 33 MiB up
        mo.params = c.params;
        if (c.seeded) {  // msdos' mkfs writes no time and draws nothing
            mo.params.emplace_back("time", std::to_string(fixed));
            mo.params.emplace_back("seed", std::to_string(seed));
        }
        std::remove(path.c_str());
        auto made = uk::mkfs(c.type, path, mo);
        EXPECT_TRUE(made) << made.error().describe();
        uk::MountOptions o;
        o.type = c.type;
        o.time = timespec{fixed, 0};
        o.seed = seed;
        {
            auto m = uk::Mount::open(path, o);
            EXPECT_TRUE(m) << m.error().describe();
            if (!m)
                return {};
            EXPECT_TRUE(m->mkdir("/dir", 0755));
            auto f = m->open_file("/dir/file", O_WRONLY | O_CREAT, 0644);
            EXPECT_TRUE(f);
            if (f) {
                const std::string text = "the same bytes\n";
                EXPECT_TRUE(f->write(0, std::as_bytes(std::span(text.data(), text.size())), false));
                EXPECT_TRUE(f->close());
            }
            EXPECT_TRUE(m->utimes("/dir", std::nullopt, std::nullopt));  // "now"
            auto st = m->stat("/dir/file");
            EXPECT_TRUE(st);
            if (st) {
                EXPECT_EQ(st->st_mtim.tv_sec, fixed);
                EXPECT_EQ(st->st_ctim.tv_sec, fixed);
            }
            auto d = m->stat("/dir");
            EXPECT_TRUE(d);
            if (d) {
                EXPECT_EQ(d->st_mtim.tv_sec, fixed);
            }
            auto r = m->release();
            EXPECT_TRUE(r) << r.error().describe();
        }
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    std::string dir;
};

TEST_P(Clock, SameTimeAndSeedSameBytes) {
    const std::string a = build(dir + "/a.img", 7);
    ::sleep(1);  // another second on the host's clock: it must not show
    const std::string b = build(dir + "/b.img", 7);
    ASSERT_FALSE(a.empty());
    EXPECT_TRUE(a == b) << GetParam().name << ": two builds differ";
    if (GetParam().seeded) {
        const std::string c = build(dir + "/b.img", 8);
        EXPECT_FALSE(a == c) << GetParam().name << ": another seed gives the same bytes";
    }
}

INSTANTIATE_TEST_SUITE_P(Types, Clock,
                         ::testing::Values(Case{"ext4", "ext2fs", {{"fstype", "ext4"}}, true},
                                           Case{"ext2", "ext2fs", {{"fstype", "ext2"}}, true},
                                           Case{"ufs2", "ffs", {{"version", "2"}}, true},
                                           Case{"ufs1", "ffs", {{"version", "1"}}, true},
                                           Case{"fat32", "msdos", {{"fat", "32"}}, false}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                             return std::string(i.param.name);
                         });

}  // namespace
