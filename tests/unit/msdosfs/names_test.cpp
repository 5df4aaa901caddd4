// Short-name generation (table test, the Windows rules), long-name validity, UTF-8/16, and the
// dirty bit in FAT[1] while mounted read-write.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "fs/msdosfs/mkfs.hpp"
#include "fs/msdosfs/node.hpp"
#include "support.hpp"

namespace uk::msdosfs::test {
namespace {

struct NameCase {
    const char* name;
    const char* short11;  // the 11 bytes
    std::uint8_t ntres;
    bool lfn;
};

const NameCase name_cases[] = {
    {"FOO.TXT", "FOO     TXT", 0, false},
    {"foo.txt", "FOO     TXT", ntres_lower_base | ntres_lower_ext, false},
    {"foo.TXT", "FOO     TXT", ntres_lower_base, false},
    {"Foo.txt", "FOO     TXT", 0, true},
    {"longnames.txt", "LONGNA~1TXT", 0, true},
    {"longname.txt", "LONGNAMETXT", ntres_lower_base | ntres_lower_ext, false},
    {"long name.text", "LONGNA~1TEX", 0, true},
    {".bashrc", "BASHRC~1   ", 0, true},
    {"a+b.c", "A_B~1   C  ", 0, true},
    {"x.tar.gz", "XTAR~1  GZ ", 0, true},
    {"caf\xc3\xa9", "CAF_~1     ", 0, true},
    {"README", "README     ", 0, false},
};

TEST(Names, ShortNamesAsWindowsMakesThem) {
    for (const NameCase& c : name_cases) {
        auto p = plan_name(c.name, false, [](const std::uint8_t (&)[11]) { return false; });
        ASSERT_TRUE(p) << c.name;
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(p->short_name), 11), c.short11)
            << c.name;
        EXPECT_EQ(p->ntres, c.ntres) << c.name;
        EXPECT_EQ(p->needs_lfn, c.lfn) << c.name;
    }
}

TEST(Names, NumericTailsNeverCollide) {
    std::set<std::string> taken;
    for (int i = 0; i < 30; ++i) {
        auto p = plan_name("a long name " + std::to_string(i) + ".txt", false,
                           [&](const std::uint8_t (&n)[11]) {
                               return taken.count(std::string(reinterpret_cast<const char*>(n), 11)) != 0;
                           });
        ASSERT_TRUE(p);
        EXPECT_TRUE(taken.emplace(reinterpret_cast<const char*>(p->short_name), 11).second);
    }
    EXPECT_TRUE(taken.count("ALONGN~1TXT"));
    EXPECT_TRUE(taken.count("ALONG~10TXT"));
}

TEST(Names, NamesFatCannotHold) {
    auto none = [](const std::uint8_t (&)[11]) { return false; };
    for (const char* bad : {"a:b", "a*b", "q?", "x<y", "p|q", "ends.", "ends ", "quote\""})
        EXPECT_EQ(plan_name(bad, false, none).error().errnum(), EINVAL) << bad;
    EXPECT_EQ(plan_name(std::string(256, 'a'), false, none).error().errnum(), ENAMETOOLONG);
    EXPECT_EQ(plan_name("\xff\xfe", false, none).error().errnum(), EINVAL);
    EXPECT_TRUE(plan_name(std::string(255, 'a'), false, none));
}

TEST(Names, Utf16RoundTrip) {
    std::u16string u;
    ASSERT_TRUE(utf8_to_utf16("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", u));
    EXPECT_EQ(u.size(), 5u);
    std::string back;
    ASSERT_TRUE(utf16_to_utf8(u, back));
    EXPECT_EQ(back, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    EXPECT_FALSE(utf16_to_utf8(std::u16string(1, char16_t{0xD800}), back));
}

std::uint32_t fat1(const fs::path& img, const Geometry& g) {
    std::uint32_t v = 0;
    const int fd = ::open(img.c_str(), O_RDONLY);
    const unsigned width = g.type == FatType::fat32 ? 4 : 2;
    EXPECT_EQ(::pread(fd, &v, width, static_cast<off_t>(g.reserved_sectors * g.bytes_per_sector + width)),
              static_cast<ssize_t>(width));
    ::close(fd);
    return v;
}

TEST(DirtyBit, SetWhileMountedReadWriteClearedAtRelease) {
    if (!have_tools())
        GTEST_SKIP() << "mkfs.fat / mtools are not installed";
    for (const char* opts : {"-F 16", "-F 32"}) {
        TempDir work;
        const fs::path img = work.path() / "img";
        ASSERT_EQ(make_image(img, opts, 40960), 0);
        auto m = mount_image(img, false);
        ASSERT_TRUE(m) << m.error().describe();
        const Geometry g = static_cast<Msdosfs&>((*m)->fs()).geometry();
        const std::uint32_t clean = g.type == FatType::fat32 ? fat32_clean : fat16_clean;
        EXPECT_EQ(fat1(img, g) & clean, 0u) << opts << ": not marked dirty while mounted";
        ASSERT_TRUE((*m)->mkdir("/x", 0755));
        ASSERT_TRUE((*m)->unmount(false));
        EXPECT_NE(fat1(img, g) & clean, 0u) << opts << ": still dirty after unmount";
        EXPECT_EQ(fsck(img), 0);
        // A volume that was dirty stays dirty: we did not check it.
        {
            const std::uint32_t v = fat1(img, g) & ~clean;
            const int fd = ::open(img.c_str(), O_WRONLY);
            for (std::uint32_t k = 0; k < g.num_fats; ++k)
                ASSERT_EQ(::pwrite(fd, &v, g.type == FatType::fat32 ? 4 : 2,
                                   static_cast<off_t>((g.reserved_sectors + k * g.fat_sectors) *
                                                          g.bytes_per_sector +
                                                      (g.type == FatType::fat32 ? 4 : 2))),
                          g.type == FatType::fat32 ? 4 : 2);
            ::close(fd);
        }
        auto m2 = mount_image(img, false);
        ASSERT_TRUE(m2);
        ASSERT_TRUE((*m2)->unmount(false));
        EXPECT_EQ(fat1(img, g) & clean, 0u) << opts;
    }
}

}  // namespace
}  // namespace uk::msdosfs::test
