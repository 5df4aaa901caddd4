// Images made by mke2fs at test time from a source tree, mounted read-only through the driver
// and the VFS, compared with the tree node by node; the image must be unchanged afterwards.
// One row per mke2fs variant (ORACLES.md), plus e2fsck -D to turn big directories into hash
// trees.
#include <gtest/gtest.h>

#include "image_support.hpp"
#include "io/block_device.hpp"
#include "fs/ext2fs/register.hpp"

namespace uk::ext2fs::test {
namespace {

struct Variant {
    const char* name;
    const char* mkfs;       // -t TYPE and options
    bool index_dirs = false;  // e2fsck -fyD afterwards
};

const Variant variants[] = {
    {"ext4", "ext4"},
    {"ext2", "ext2"},
    {"ext3", "ext3"},
    {"ext4_1k", "ext4 -b 1024"},
    {"ext2_1k", "ext2 -b 1024"},
    {"ext4_no_csum", "ext4 -O ^metadata_csum"},
    {"ext4_no_csum_no_64bit", "ext4 -O ^metadata_csum,^64bit"},
    {"ext4_inline", "ext4 -O inline_data"},
    {"ext4_128", "ext4 -I 128"},
    {"ext2_128", "ext2 -I 128"},
    {"ext4_htree", "ext4", true},
    {"ext2_htree_1k", "ext2 -b 1024", true},
    {"ext4_meta_bg", "ext4 -O meta_bg,^resize_inode"},
    {"ext4_64k", "ext4 -b 65536 -N 4096"},
    {"ext4_no_filetype", "ext2 -O ^filetype"},
};

class Images : public ::testing::TestWithParam<Variant> {
protected:
    static void SetUpTestSuite() {
        if (!have_tool("mke2fs"))
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
            GTEST_SKIP() << "mke2fs (e2fsprogs) is not installed";
    }
    static TempDir* s_src;
};
TempDir* Images::s_src = nullptr;

TEST_P(Images, TreeMatchesSource) {
    const Variant& v = GetParam();
    TempDir work;
    const fs::path img = work.path() / "img";
    const fs::path src = s_src->path() / "src";
    ASSERT_EQ(make_image(src, img, v.mkfs, "32M"), 0) << v.mkfs;
    if (v.index_dirs) {
        const int rc = run("e2fsck -fyD " + img.string());
        ASSERT_LE(rc, 1) << "e2fsck -fyD: " << rc;  // 1: directories optimised
    }
    ASSERT_EQ(run("e2fsck -fn " + img.string()), 0) << "the reference image is not clean";
    const std::string before = file_digest(img);
    {
        auto m = mount_image(img);
        ASSERT_TRUE(m) << m.error().describe();
        const std::size_t n = compare_tree(**m, src, false);
        EXPECT_GT(n, 2000u);
        auto s = (*m)->statfs();
        ASSERT_TRUE(s);
        EXPECT_GT(s->blocks, s->bfree);
        EXPECT_GT(s->files, s->ffree);
        EXPECT_EQ(s->namemax, 255u);
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_EQ(file_digest(img), before) << "a read-only mount changed the image";
}

INSTANTIATE_TEST_SUITE_P(Mke2fs, Images, ::testing::ValuesIn(variants),
                         [](const auto& info) { return std::string(info.param.name); });

// Detection through a registry, and the read-write refusal of a feature the writer lacks.
TEST(Ext2fsMount, DetectsAndRefusesReadWrite) {
    if (!have_tool("mke2fs"))
        GTEST_SKIP() << "mke2fs (e2fsprogs) is not installed";
    TempDir work;
    fs::create_directory(work.path() / "src");
    write_host_file(work.path() / "src/f", pattern(10, 1));
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(work.path() / "src", img, "ext4 -O inline_data", "8M"), 0);

    vfs::Registry registry;
    register_ext2fs(registry);
    auto dev = io::ImageFile::open(img.string(), true);
    ASSERT_TRUE(dev);
    auto found = registry.detect(**dev);
    ASSERT_TRUE(found) << found.error().describe();
    EXPECT_EQ(found->name, "ext2fs");

    vfs::MountRequest req;
    req.device = std::shared_ptr<io::BlockDevice>(std::move(*dev));
    req.flags = 0;  // read-write
    auto rw = mount_ext2fs(req);
    ASSERT_FALSE(rw);
    EXPECT_EQ(rw.error().errnum(), EROFS);
    EXPECT_EQ(rw.error().message(),
              "ext2fs: feature(s) inline_data are not supported for writing yet: mount "
              "read-only");

    io::MemoryDevice zeros(1 << 20);
    EXPECT_EQ(detect_ext2fs(zeros), 0);
}

// Writes through a read-only mount fail with EROFS and change nothing.
TEST(Ext2fsMount, WritesAreRefused) {
    if (!have_tool("mke2fs"))
        GTEST_SKIP() << "mke2fs (e2fsprogs) is not installed";
    TempDir work;
    fs::create_directory(work.path() / "src");
    write_host_file(work.path() / "src/f", pattern(10, 1));
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(work.path() / "src", img, "ext4", "8M"), 0);
    const std::string before = file_digest(img);
    {
        auto m = mount_image(img);
        ASSERT_TRUE(m) << m.error().describe();
        EXPECT_EQ((*m)->mkdir("/x", 0755).error().errnum(), EROFS);
        EXPECT_EQ((*m)->write("/f", 0, pattern(3, 2)).error().errnum(), EROFS);
        EXPECT_EQ((*m)->remove("/f").error().errnum(), EROFS);
        std::byte buf[4];
        EXPECT_EQ((*m)->read("/", 0, buf).error().errnum(), EISDIR);
        EXPECT_EQ((*m)->stat("/nope", vfs::Follow::no).error().errnum(), ENOENT);
        EXPECT_EQ((*m)->stat("/f/x", vfs::Follow::no).error().errnum(), ENOTDIR);
    }
    EXPECT_EQ(file_digest(img), before);
}

// Nanoseconds and epoch bits in the extra time words (set with debugfs: mke2fs 1.47.0 -d
// copies whole seconds only). 0x1D6F3455: epoch 1 (seconds + 2^32), 123456789 ns.
TEST(Ext2fsMount, NanosecondsAndEpochBits) {
    if (!have_tool("mke2fs") || !have_tool("debugfs"))
        GTEST_SKIP() << "mke2fs/debugfs (e2fsprogs) are not installed";
    TempDir work;
    fs::create_directory(work.path() / "src");
    write_host_file(work.path() / "src/f", pattern(10, 1));
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(work.path() / "src", img, "ext4", "8M"), 0);
    ASSERT_EQ(run("debugfs -w -R 'sif /f mtime 0x5e0be100' " + img.string()), 0);
    ASSERT_EQ(run("debugfs -w -R 'sif /f mtime_extra 0x1D6F3455' " + img.string()), 0);
    ASSERT_EQ(run("debugfs -w -R 'sif /f crtime 0x80000000' " + img.string()), 0);
    ASSERT_EQ(run("debugfs -w -R 'sif /f crtime_extra 0x00000008' " + img.string()), 0);
    auto m = mount_image(img);
    ASSERT_TRUE(m) << m.error().describe();
    auto a = (*m)->stat("/f", vfs::Follow::no);
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a->mtime.tv_sec, 0x5e0be100LL + (1LL << 32));
    EXPECT_EQ(a->mtime.tv_nsec, 123456789);
    EXPECT_EQ(a->birthtime.tv_sec, -0x80000000LL);  // signed seconds, epoch 0
    EXPECT_EQ(a->birthtime.tv_nsec, 2);
}

}  // namespace
}  // namespace uk::ext2fs::test
