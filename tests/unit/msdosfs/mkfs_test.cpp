// mkfs: volumes made by uk::msdosfs::mkfs are clean for fsck.fat -n, readable and writable by
// mtools and by the driver, and get the FAT type mkfs.fat would choose for the same size.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "fs/msdosfs/mkfs.hpp"
#include "support.hpp"

namespace uk::msdosfs::test {
namespace {

struct MkfsCase {
    const char* name;
    std::uint64_t kib;
    MkfsOptions options;
    FatType want;
};

MkfsOptions opts(int type, std::uint32_t sector = 0, std::uint32_t spc = 0,
                 std::string label = {}) {
    MkfsOptions o;
    o.fat_type = type;
    o.sector_size = sector;
    o.sectors_per_cluster = spc;
    o.label = std::move(label);
    return o;
}

const MkfsCase cases[] = {
    {"auto_4m", 4096, opts(0), FatType::fat12},
    {"auto_20m", 20480, opts(0), FatType::fat16},
    {"auto_600m", 614400, opts(0), FatType::fat32},
    {"fat12_label", 2048, opts(12, 512, 1, "MyDisk"), FatType::fat12},
    {"fat16_4k_sectors", 65536, opts(16, 4096, 1), FatType::fat16},
    {"fat32_small_clusters", 40960, opts(32, 512, 1, "DATA"), FatType::fat32},
    {"fat32_2k_sectors", 300000, opts(32, 2048, 1), FatType::fat32},
};

class Mkfs : public ::testing::TestWithParam<MkfsCase> {
protected:
    void SetUp() override {
        if (!have_tools())
            GTEST_SKIP() << "mkfs.fat / mtools are not installed";
    }
};

TEST_P(Mkfs, CleanAndUsable) {
    const MkfsCase& c = GetParam();
    TempDir work;
    const fs::path img = work.path() / "img";
    ASSERT_EQ(run(fmt::format("truncate -s {}K {}", c.kib, img.string())), 0);
    {
        auto dev = io::ImageFile::open(img.string(), false);
        ASSERT_TRUE(dev);
        auto r = mkfs(**dev, c.options);
        ASSERT_TRUE(r) << r.error().describe();
    }
    EXPECT_EQ(fsck(img), 0) << capture("fsck.fat -n -v " + img.string());
    const fs::path f = work.path() / "f";
    write_host_file(f, pattern(10000, 1));
    ASSERT_EQ(run("mcopy -i " + img.string() + " " + f.string() + " '::/A file.bin'"), 0);
    {
        auto m = mount_image(img, false);
        ASSERT_TRUE(m) << m.error().describe();
        EXPECT_EQ(static_cast<Msdosfs&>((*m)->fs()).geometry().type, c.want);
        if (!c.options.label.empty()) {
            std::string want = c.options.label;
            for (auto& ch : want)
                ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            EXPECT_EQ(static_cast<Msdosfs&>((*m)->fs()).geometry().label, want);
        }
        std::vector<std::byte> got(20000);
        auto n = (*m)->read("/A file.bin", 0, got);
        ASSERT_TRUE(n) << n.error().describe();
        got.resize(*n);
        EXPECT_TRUE(got == pattern(10000, 1));
        ASSERT_TRUE((*m)->mkdir("/made by ukfs", 0755));
        ASSERT_TRUE((*m)->create("/made by ukfs/x.txt", 0644, true));
        ASSERT_TRUE((*m)->write("/made by ukfs/x.txt", 0, pattern(3000, 2)));
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_EQ(fsck(img), 0) << capture("fsck.fat -n -v " + img.string());
    const std::string listing = capture("mdir -/ -a -b -i " + img.string() + " ::/");
    EXPECT_NE(listing.find("x.txt"), std::string::npos) << listing;
    // mkfs.fat picks the same type for the same size.
    if (c.options.fat_type == 0) {
        const fs::path ref = work.path() / "ref";
        ASSERT_EQ(make_image(ref, "", c.kib), 0);
        auto m = mount_image(ref, true);
        ASSERT_TRUE(m);
        EXPECT_EQ(static_cast<Msdosfs&>((*m)->fs()).geometry().type, c.want);
    }
}

INSTANTIATE_TEST_SUITE_P(Msdos, Mkfs, ::testing::ValuesIn(cases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(MkfsOptionsTest, RejectsImpossibleLayouts) {
    io::MemoryDevice dev(std::uint64_t{1} << 20);
    EXPECT_EQ(mkfs(dev, opts(16)).error().errnum(), EINVAL);   // too few clusters for FAT16
    EXPECT_EQ(mkfs(dev, opts(12, 300)).error().errnum(), EINVAL);
    EXPECT_EQ(mkfs(dev, opts(12, 512, 3)).error().errnum(), EINVAL);
    EXPECT_EQ(mkfs(dev, opts(12, 512, 1, "a label too long")).error().errnum(), EINVAL);
    EXPECT_TRUE(mkfs(dev, opts(12)));
}

}  // namespace
}  // namespace uk::msdosfs::test
