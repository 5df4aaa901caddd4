// Images made by makefs -t ffs at test time from a source tree, mounted read-only through the
// driver and the VFS, compared with the tree node by node; the image must be unchanged
// afterwards. One row per makefs variant: UFS1 and UFS2, both byte orders, 4 KiB to 64 KiB
// blocks with 1, 2, 4 and 8 fragments.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>

#include <ukfs/netbsd.h>

#include "fs/ffs/register.hpp"
#include "fs/ffs/superblock.hpp"
#include "image_support.hpp"
#include "io/block_device.hpp"

namespace uk::ffs::test {
namespace {

struct Variant {
    const char* name;
    int version;
    const char* endian;
    std::uint32_t bsize;
    std::uint32_t fsize;
};

const Variant variants[] = {
    {"ufs1_le_4k", 1, "le", 4096, 512},       {"ufs1_be_8k", 1, "be", 8192, 1024},
    {"ufs1_le_16k_2", 1, "le", 16384, 8192},  {"ufs1_be_32k", 1, "be", 32768, 4096},
    {"ufs1_le_64k", 1, "le", 65536, 8192},    {"ufs2_be_4k", 2, "be", 4096, 512},
    {"ufs2_le_8k", 2, "le", 8192, 1024},      {"ufs2_be_16k_4", 2, "be", 16384, 4096},
    {"ufs2_le_32k_1", 2, "le", 32768, 32768}, {"ufs2_be_64k", 2, "be", 65536, 8192},
};

std::string makefs_options(const Variant& v) {
    // 64 MiB: several cylinder groups, and room for makefs' per-group inode limit.
    return fmt::format("-M 64m -B {} -o version={},bsize={},fsize={}", v.endian, v.version, v.bsize,
                       v.fsize);
}

class Images : public ::testing::TestWithParam<Variant> {
protected:
    void SetUp() override {
        if (!have_tool("makefs"))
            GTEST_SKIP() << "makefs is not installed";
    }
};

TEST_P(Images, TreeMatchesSource) {
    const Variant& v = GetParam();
    TempDir work;
    const fs::path img = work.path() / "img";
    const fs::path src = work.path() / "src";
    TreeOptions options;
    options.bsize = v.bsize;
    options.fsize = v.fsize;
    build_tree(src, options);
    ASSERT_EQ(make_image(src, img, makefs_options(v)), 0) << makefs_options(v);
    const std::string before = file_digest(img);
    {
        auto m = mount_image(img);
        ASSERT_TRUE(m) << m.error().describe();
        const std::size_t n = compare_tree(**m, src, false);  // makefs stores no nanoseconds
        EXPECT_GT(n, 2000u);
        auto s = (*m)->statfs();
        ASSERT_TRUE(s);
        EXPECT_EQ(s->bsize, v.fsize);
        EXPECT_EQ(s->iosize, v.bsize);
        EXPECT_GT(s->blocks, s->bfree);
        EXPECT_GT(s->files, s->ffree);
        EXPECT_EQ(s->namemax, 255u);
        auto root = (*m)->stat("/", vfs::Follow::no);
        ASSERT_TRUE(root);
        EXPECT_EQ(root->blksize, v.bsize);
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_EQ(file_digest(img), before) << "a read-only mount changed the image";

    // The geometry matches what makefs was asked for.
    auto dev = io::ImageFile::open(img.string(), true);
    ASSERT_TRUE(dev);
    auto found = find_superblock(**dev);
    ASSERT_TRUE(found) << found.error().describe();
    auto g = derive_geometry(*found, (*dev)->size());
    ASSERT_TRUE(g) << g.error().describe();
    EXPECT_EQ(g->ufs2, v.version == 2);
    EXPECT_EQ(g->bsize, v.bsize);
    EXPECT_EQ(g->fsize, v.fsize);
    EXPECT_EQ(g->order.endian(),
              std::string(v.endian) == "le" ? std::endian::little : std::endian::big);
    EXPECT_EQ(g->maxsymlinklen, v.version == 2 ? 120u : 60u);

    // The Sleuth Kit reads UFS1 (it finds UFS2 only at 65536, makefs puts it at 8192): every
    // path it lists has the inode number we report.
    if (v.version == 1 && have_tool("fls")) {
        auto m = mount_image(img);
        ASSERT_TRUE(m) << m.error().describe();
        std::istringstream lines(capture("fls -r -p " + img.string()));
        std::string line;
        std::size_t checked = 0;
        while (std::getline(lines, line)) {
            // "r/r 5:\tpath" (deleted entries carry a '*', the virtual ones a 'V')
            const auto colon = line.find(":\t");
            if (colon == std::string::npos || line.find('*') < colon || line[0] == 'V')
                continue;
            const std::string ino = line.substr(4, colon - 4);
            const std::string path = "/" + line.substr(colon + 2);
            auto a = (*m)->stat(path, vfs::Follow::no);
            ASSERT_TRUE(a) << path << ": " << a.error().describe();
            EXPECT_EQ(std::to_string(a->ino), ino) << path;
            ++checked;
        }
        EXPECT_GT(checked, 2000u);
    }
}

INSTANTIATE_TEST_SUITE_P(Makefs, Images, ::testing::ValuesIn(variants),
                         [](const auto& info) { return std::string(info.param.name); });

// Detection through a registry, ufs_args accepted, and the read-write refusal.
TEST(FfsMount, DetectsAndRefusesReadWrite) {
    if (!have_tool("makefs"))
        GTEST_SKIP() << "makefs is not installed";
    TempDir work;
    fs::create_directory(work.path() / "src");
    write_host_file(work.path() / "src/f", pattern(10, 1));
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(work.path() / "src", img, "-M 4m -B be -o version=1"), 0);

    vfs::Registry registry;
    register_ffs(registry);
    auto dev = io::ImageFile::open(img.string(), true);
    ASSERT_TRUE(dev);
    auto found = registry.detect(**dev);
    ASSERT_TRUE(found) << found.error().describe();
    EXPECT_EQ(found->name, "ffs");

    vfs::MountRequest req;
    req.device = std::shared_ptr<io::BlockDevice>(std::move(*dev));
    char fspec[] = "img";
    ufs_args args{fspec};
    req.args = &args;
    req.args_len = sizeof args;
    req.flags = vfs::mnt_rdonly;
    auto ro = mount_ffs(req);
    ASSERT_TRUE(ro) << ro.error().describe();

    io::MemoryDevice zeros(1 << 20);
    EXPECT_EQ(detect_ffs(zeros), 0);
}

// Changes through a read-only mount fail with EROFS.
TEST(FfsMount, ChangesAreRefused) {
    if (!have_tool("makefs"))
        GTEST_SKIP() << "makefs is not installed";
    TempDir work;
    fs::create_directory(work.path() / "src");
    write_host_file(work.path() / "src/f", pattern(10, 1));
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(work.path() / "src", img, "-M 4m -o version=2"), 0);
    auto m = mount_image(img);
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_EQ((*m)->mkdir("/d", 0755).error().errnum(), EROFS);
    EXPECT_EQ((*m)->remove("/f").error().errnum(), EROFS);
}

}  // namespace
}  // namespace uk::ffs::test
