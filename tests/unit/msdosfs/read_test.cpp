// Images made by mkfs.fat and filled by mcopy at test time (FAT12, FAT16, FAT32; several
// sector and cluster sizes), mounted read-only through the driver and the VFS, compared with
// the source tree; the image must be unchanged afterwards. Also type detection, a partition
// table in front, and the mount arguments.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <ukfs/netbsd.h>

#include <set>
#include "support.hpp"
#include "vfs/registry.hpp"

namespace uk::msdosfs::test {
namespace {

struct Variant {
    const char* name;
    const char* options;
    std::uint64_t kib;
    FatType type;
};

const Variant variants[] = {
    {"fat12", "-F 12", 4096, FatType::fat12},
    {"fat12_s1", "-F 12 -s 1", 2048, FatType::fat12},
    {"fat12_4k_sectors", "-F 12 -S 4096 -s 1", 8192, FatType::fat12},
    {"fat16", "-F 16", 20480, FatType::fat16},
    {"fat16_s16", "-F 16 -s 16", 65536, FatType::fat16},
    {"fat16_2k_sectors", "-F 16 -S 2048 -s 1", 20480, FatType::fat16},
    {"fat32", "-F 32", 40960, FatType::fat32},
    {"fat32_1k_sectors", "-F 32 -S 1024 -s 1", 70000, FatType::fat32},
    {"fat32_4k_sectors", "-F 32 -S 4096 -s 1", 270000, FatType::fat32},
    {"fat32_one_fat", "-F 32 -f 1", 40960, FatType::fat32},
};

class Images : public ::testing::TestWithParam<Variant> {
protected:
    static void SetUpTestSuite() {
        if (!have_tools())
            return;
        s_src = new TempDir;
        build_tree(s_src->path() / "src");
    }
    static void TearDownTestSuite() {
        delete s_src;
        s_src = nullptr;
    }
    void SetUp() override {
        if (s_src == nullptr)
            GTEST_SKIP() << "mkfs.fat / mtools are not installed";
    }
    static TempDir* s_src;
};
TempDir* Images::s_src = nullptr;

TEST_P(Images, TreeMatchesSource) {
    const Variant& v = GetParam();
    TempDir work;
    const fs::path img = work.path() / "img";
    const fs::path src = s_src->path() / "src";
    ASSERT_EQ(make_image(img, v.options, v.kib, src), 0) << v.options;
    ASSERT_EQ(fsck(img), 0) << "the reference image is not clean";
    const std::string before = file_digest(img);
    {
        auto m = mount_image(img, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto& fsys = static_cast<Msdosfs&>((*m)->fs());
        EXPECT_EQ(fsys.geometry().type, v.type);
        EXPECT_GT(compare_tree(**m, src), 160u);
        auto s = (*m)->statfs();
        ASSERT_TRUE(s);
        EXPECT_GT(s->blocks, s->bfree);
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_EQ(file_digest(img), before) << "a read-only mount changed the image";
    auto dev = io::ImageFile::open(img.string(), true);
    ASSERT_TRUE(dev);
    auto d = vfs::Registry::global().detect(**dev);
    ASSERT_TRUE(d) << d.error().describe();
    EXPECT_EQ(d->name, "msdos");
}

INSTANTIATE_TEST_SUITE_P(Msdos, Images, ::testing::ValuesIn(variants),
                         [](const auto& info) { return std::string(info.param.name); });

class Single : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_tools())
            GTEST_SKIP() << "mkfs.fat / mtools are not installed";
    }
};

TEST_F(Single, MountArgumentsSetOwnerMasksAndTimeOffset) {
    TempDir work;
    const fs::path src = work.path() / "src", img = work.path() / "img";
    fs::create_directories(src / "dir");
    write_host_file(src / "file", pattern(5, 1));
    ASSERT_EQ(make_image(img, "-F 16", 20480, src), 0);
    ASSERT_EQ(run("mattrib -i " + img.string() + " +r ::/file"), 0);
    auto plain = mount_image(img, true);
    ASSERT_TRUE(plain);
    auto f0 = (*plain)->stat("/file", vfs::Follow::no);
    ASSERT_TRUE(f0);
    EXPECT_EQ(f0->mode, 0555u & 0755u);  // read-only attribute: no write bits
    ASSERT_TRUE((*plain)->unmount(false));

    msdosfs_args args{};
    args.uid = 1234;
    args.gid = 5678;
    args.mask = 0640;
    args.dirmask = 0710;
    args.flags = MSDOSFSMNT_VERSIONED;
    args.version = MSDOSFSMNT_VERSION;
    args.gmtoff = 3600;
    auto m = mount_image(img, true, &args, sizeof args);
    ASSERT_TRUE(m) << m.error().describe();
    auto f = (*m)->stat("/file", vfs::Follow::no);
    auto d = (*m)->stat("/dir", vfs::Follow::no);
    ASSERT_TRUE(f && d);
    EXPECT_EQ(f->uid, 1234u);
    EXPECT_EQ(f->gid, 5678u);
    EXPECT_EQ(f->mode, 0440u);
    EXPECT_EQ(d->mode, 0710u);
    ASSERT_TRUE((*m)->unmount(false));
    args.gmtoff = 0;
    auto utc = mount_image(img, true, &args, sizeof args);
    ASSERT_TRUE(utc);
    auto fu = (*utc)->stat("/file", vfs::Follow::no);
    ASSERT_TRUE(fu);
    EXPECT_EQ(fu->mtime.tv_sec - f->mtime.tv_sec, 3600);  // the same DOS time, an hour east
    ASSERT_TRUE((*utc)->unmount(false));
}

TEST_F(Single, ShortNamesAloneAndCaseBits) {
    TempDir work;
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(img, "-F 12", 1440), 0);
    // mtools writes "lower.txt" as an 8.3 entry with the lower-case bits, no long name.
    const fs::path f = work.path() / "x";
    write_host_file(f, pattern(3, 3));
    ASSERT_EQ(run("mcopy -i " + img.string() + " " + f.string() + " ::/lower.txt"), 0);
    ASSERT_EQ(run("mcopy -i " + img.string() + " " + f.string() + " ::/UP.TXT"), 0);
    auto m = mount_image(img, true);
    ASSERT_TRUE(m);
    std::set<std::string> names;
    ASSERT_TRUE((*m)->readdir("/", 0, [&](const vfs::DirEntry& e, std::uint64_t) {
        names.emplace(e.name);
        return true;
    }));
    EXPECT_EQ(names, (std::set<std::string>{".", "..", "lower.txt", "UP.TXT"}));
    // Lookups fold case, as FAT does.
    EXPECT_TRUE((*m)->stat("/LOWER.TXT", vfs::Follow::no));
    EXPECT_TRUE((*m)->stat("/up.txt", vfs::Follow::no));
    ASSERT_TRUE((*m)->unmount(false));
}

TEST_F(Single, PartitionedImage) {
    TempDir work;
    const fs::path img = work.path() / "disk", part = work.path() / "part";
    const fs::path src = work.path() / "src";
    build_tree(src, false);
    ASSERT_EQ(make_image(part, "-F 16", 20480, src), 0);
    ASSERT_EQ(run("truncate -s 22M " + img.string()), 0);
    ASSERT_EQ(run("echo 'label: dos\nstart=2048, type=6' | sfdisk " + img.string()), 0);
    ASSERT_EQ(run("dd if=" + part.string() + " of=" + img.string() +
                  " bs=512 seek=2048 conv=notrunc"), 0);
    std::shared_ptr<io::BlockDevice> dev = *io::ImageFile::open(img.string(), true);
    auto slice = io::SliceDevice::make(dev, 2048 * 512, 20480 * 1024);
    ASSERT_TRUE(slice);
    vfs::MountRequest req;
    req.device = std::move(*slice);
    req.flags = vfs::mnt_rdonly;
    auto f = mount_msdos(req);
    ASSERT_TRUE(f) << f.error().describe();
    auto m = vfs::Mount::create(std::move(*f), "msdos", vfs::mnt_rdonly);
    ASSERT_TRUE(m);
    EXPECT_GT(compare_tree(**m, src), 100u);
}

}  // namespace
}  // namespace uk::msdosfs::test
