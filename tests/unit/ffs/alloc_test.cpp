// Allocation by cylinder group, judged from the on-disk inodes and cylinder-group headers after
// the driver synced. Only what NetBSD's ffs_alloc.c guarantees is asserted (see alloc.cpp):
// ffs_dirpref puts a new top-level directory in a group whose free inodes and free blocks are
// at least the average, the one with the fewest directories among those (ties go any way), and
// a deeper one in its parent's group while that has room and no long row of directories;
// ffs_valloc puts a file's inode in its directory's group and ffs_blkpref its first blocks in
// the inode's group, while that group has room; ffs_alloccg gives a file's short last block
// (all of a small file) as fragments, from the smallest free run of a partly used block before
// it breaks up a whole one. Images of several groups from our newfs and from makefs, UFS1 and
// UFS2, both byte orders.
#include <fcntl.h>

#include <algorithm>
#include <set>

#include "rw_support.hpp"

namespace uk::ffs::test {
namespace {

struct AllocImage {
    RwImage image;
    std::uint64_t mib;
};

const AllocImage alloc_images[] = {
    {{"ufs1_le_newfs_8k", false, 1, std::endian::little, 8192, 1024}, 256},
    {{"ufs2_be_newfs_8k", false, 2, std::endian::big, 8192, 1024}, 256},
    {{"ufs1_be_makefs_4k", true, 1, std::endian::big, 4096, 512}, 64},
    {{"ufs2_le_makefs_4k", true, 2, std::endian::little, 4096, 512}, 64},
};

class FfsAlloc : public ::testing::TestWithParam<AllocImage> {
protected:
    void SetUp() override {
        if (GetParam().image.makefs && !have_tool("makefs"))
            GTEST_SKIP() << "makefs is not installed";
        m_img = m_work.path() / "img";
        make_rw_image(GetParam().image, m_img, GetParam().mib);
        if (HasFatalFailure())
            return;
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        m_m = std::move(*m);
    }
    void TearDown() override {
        if (m_m) {
            EXPECT_TRUE(m_m->unmount(false));
            m_m.reset();
            EXPECT_TRUE(checker_clean(m_img));
        }
    }
    vfs::Mount& m() { return *m_m; }

    // What the driver wrote, as the disk has it now.
    OnDisk disk() {
        auto synced = m().sync();
        EXPECT_TRUE(synced) << synced.error().describe();
        return OnDisk(m_img);
    }
    std::uint64_t ino(const std::string& path) {
        auto a = m().stat(path, vfs::Follow::no);
        EXPECT_TRUE(a) << path << ": " << a.error().describe();
        return a ? a->ino : 0;
    }
    void put(const std::string& path, std::size_t size) {
        ASSERT_TRUE(m().create(path, 0644, true)) << path;
        auto n = m().write(path, 0, pattern(size, static_cast<std::uint32_t>(size)));
        ASSERT_TRUE(n) << path << ": " << n.error().describe();
    }

    TempDir m_work;
    fs::path m_img;
    std::unique_ptr<vfs::Mount> m_m;
};

// Free fragments of a group: whole free blocks and loose fragments.
std::uint64_t free_frags(const OnDisk::Group& grp, std::uint32_t frag) {
    return std::uint64_t{grp.nbfree} * frag + grp.nffree;
}

// ffs_dirpref for a directory in the root: each lands in a group with at least the average
// free inodes and free blocks, with the fewest directories of those; so the first ones, on a
// new file system whose groups past the first are alike, go to different groups.
TEST_P(FfsAlloc, TopLevelDirectoriesSpreadOverGroups) {
    const std::uint32_t ncg = disk().g().ncg;
    ASSERT_GE(ncg, 4u) << "the image should have several cylinder groups";
    std::vector<std::uint32_t> placed;
    std::size_t empty_eligible = 0;  // eligible groups without a directory, at first
    for (std::uint32_t i = 0; i < std::min(ncg + 2, 10u); ++i) {
        const OnDisk d = disk();
        std::vector<OnDisk::Group> gs;
        std::uint64_t ifree = 0, bfree = 0;
        for (std::uint32_t c = 0; c < ncg; ++c) {
            gs.push_back(d.group(c));
            ifree += gs[c].nifree;
            bfree += gs[c].nbfree;
        }
        const std::uint64_t avgifree = ifree / ncg, avgbfree = bfree / ncg;
        std::set<std::uint32_t> eligible;  // above average in both, fewest directories
        std::uint32_t fewest = ~0u;
        for (std::uint32_t c = 0; c < ncg; ++c) {
            if (gs[c].nifree < avgifree || gs[c].nbfree < avgbfree)
                continue;
            if (gs[c].ndir < fewest) {
                fewest = gs[c].ndir;
                eligible.clear();
            }
            if (gs[c].ndir == fewest)
                eligible.insert(c);
        }
        if (i == 0 && fewest == 0)
            empty_eligible = eligible.size();
        const std::string path = fmt::format("/dir{}", i);
        ASSERT_TRUE(m().mkdir(path, 0755));
        const std::uint32_t c = d.g().ino_to_cg(ino(path));
        ASSERT_FALSE(eligible.empty());
        EXPECT_TRUE(eligible.count(c))
            << path << " went to group " << c << " with " << gs[c].ndir << " directories, "
            << gs[c].nifree << " free inodes, " << gs[c].nbfree << " free blocks (averages "
            << avgifree << ", " << avgbfree << ")";
        placed.push_back(c);
    }
    // Averages only fall as directories are made, so a group without a directory that was
    // eligible at first stays so until it gets one: the first that many go to as many groups.
    ASSERT_GE(empty_eligible, 2u);
    const std::set<std::uint32_t> first(placed.begin(), placed.begin() + empty_eligible);
    EXPECT_EQ(first.size(), empty_eligible) << "top-level directories share a group";
    const OnDisk d = disk();
    std::uint64_t dirs = 0;
    for (std::uint32_t c = 0; c < ncg; ++c)
        dirs += d.group(c).ndir;
    EXPECT_EQ(dirs, placed.size() + 1) << "cs_ndir: the root and the new directories";
}

// ffs_valloc and ffs_blkpref: a file's inode is in its directory's group, and its direct
// blocks are in its inode's group, in the root's group, in top-level directories' groups and
// in a subdirectory's (wherever that went).
TEST_P(FfsAlloc, FileFollowsItsDirectory) {
    ASSERT_TRUE(m().mkdir("/a", 0755));
    ASSERT_TRUE(m().mkdir("/b", 0755));
    ASSERT_TRUE(m().mkdir("/a/sub", 0755));
    const std::uint32_t bsize = GetParam().image.bsize;
    const std::vector<std::pair<std::string, std::string>> files = {
        {"/top", "/"}, {"/a/f", "/a"}, {"/b/g", "/b"}, {"/a/sub/h", "/a/sub"}, {"/a/small", "/a"},
    };
    put("/top", 2 * bsize + 100);
    put("/a/f", 5 * bsize);
    put("/b/g", 3 * bsize + 700);
    put("/a/sub/h", 4 * bsize);
    put("/a/small", 700);
    const OnDisk d = disk();
    const Geometry& g = d.g();
    EXPECT_NE(g.ino_to_cg(ino("/a")), g.ino_to_cg(ino("/b"))) << "ffs_dirpref";
    EXPECT_NE(g.ino_to_cg(ino("/a")), 0u) << "ffs_dirpref: group 0 holds the root";
    for (const auto& [file, dir] : files) {
        const std::uint64_t i = ino(file);
        const std::uint32_t c = g.ino_to_cg(i);
        EXPECT_EQ(c, g.ino_to_cg(ino(dir)))
            << file << ": inode " << i << " not in " << dir << "'s group";
        auto a = m().stat(file, vfs::Follow::no);
        ASSERT_TRUE(a);
        const std::uint64_t nblocks = (a->size + bsize - 1) / bsize;
        ASSERT_LE(nblocks, ndaddr);
        for (unsigned k = 0; k < nblocks; ++k) {
            const std::uint64_t addr = d.db(i, k);
            ASSERT_NE(addr, 0u) << file << " block " << k;
            EXPECT_EQ(d.dtog(addr), c) << file << " block " << k << " at " << addr;
        }
    }
}

// ffs_dirpref for a directory below the root: it stays in its parent's group while that group
// has room and has not taken too many directories in a row (fs_contigdirs against
// maxcontigdirs; a file made there ends the row). So subdirectories made with files between
// them stay with their parent, and a long row of directories alone moves on to other groups.
TEST_P(FfsAlloc, SubdirectoriesStayNearTheirParent) {
    ASSERT_TRUE(m().mkdir("/p", 0755));
    const Geometry g = disk().g();
    const std::uint32_t home = g.ino_to_cg(ino("/p"));
    for (int i = 0; i < 8; ++i) {
        const std::string sub = fmt::format("/p/s{}", i);
        ASSERT_TRUE(m().mkdir(sub, 0755));
        put(sub + "/f", 100);
        EXPECT_EQ(g.ino_to_cg(ino(sub)), home) << sub;
        EXPECT_EQ(g.ino_to_cg(ino(sub + "/f")), home) << sub << "/f";
    }
    ASSERT_TRUE(m().mkdir("/p/s0/deeper", 0755));
    EXPECT_EQ(g.ino_to_cg(ino("/p/s0/deeper")), home);
    // 300 directories in a row: more than maxcontigdirs (at most 255) and maxndir allow.
    ASSERT_TRUE(m().mkdir("/q", 0755));
    const std::uint32_t qhome = g.ino_to_cg(ino("/q"));
    std::set<std::uint32_t> groups;
    for (int i = 0; i < 300; ++i) {
        const std::string sub = fmt::format("/q/d{}", i);
        ASSERT_TRUE(m().mkdir(sub, 0755));
        groups.insert(g.ino_to_cg(ino(sub)));
    }
    EXPECT_TRUE(groups.count(qhome)) << "no subdirectory of /q in its group";
    EXPECT_GT(groups.size(), 1u) << "300 directories in a row all stayed in group " << qhome;
}

// ffs_alloccg: a 700-byte file takes the fragments 700 bytes need, not a block (di_blocks, and
// its group's free fragment count falls by that many); a second small file and the tail of a
// longer one take their fragments from the same partly used block rather than breaking up
// another (cs_nbfree falls only for the longer file's whole block).
TEST_P(FfsAlloc, SmallFilesTakeFragmentsAndShareABlock) {
    ASSERT_TRUE(m().mkdir("/s", 0755));  // a group of its own, where nothing else is allocated
    const std::uint32_t frag = disk().g().frag;
    const std::uint32_t fsize = GetParam().image.fsize, bsize = GetParam().image.bsize;
    const std::uint64_t small = 700, frags = (small + fsize - 1) / fsize;
    ASSERT_LT(frags, frag);
    const std::uint64_t sectors = frags * fsize / 512;  // di_blocks counts 512-byte units
    const std::uint32_t c = disk().g().ino_to_cg(ino("/s"));
    ASSERT_NE(c, 0u);

    const OnDisk::Group g0 = disk().group(c);
    put("/s/a", small);
    const OnDisk d1 = disk();
    const OnDisk::Group g1 = d1.group(c);
    const std::uint64_t a = ino("/s/a");
    EXPECT_EQ(d1.blocks(a), sectors) << "di_blocks of a " << small << "-byte file";
    EXPECT_EQ(d1.db(a, 1), 0u);
    const std::uint64_t fa = d1.db(a, 0);
    EXPECT_EQ(d1.dtog(fa), c);
    EXPECT_EQ(free_frags(g0, frag) - free_frags(g1, frag), frags) << "group " << c;
    // Either a partly used block gave them (cs_nffree falls) or a whole one was broken up
    // (cs_nbfree falls by one, cs_nffree rises by the rest).
    if (g1.nbfree == g0.nbfree)
        EXPECT_EQ(g0.nffree - g1.nffree, frags);
    else
        EXPECT_EQ(g1.nffree - g0.nffree, frag - frags);

    put("/s/b", small);
    const OnDisk d2 = disk();
    const OnDisk::Group g2 = d2.group(c);
    const std::uint64_t b = ino("/s/b");
    EXPECT_EQ(d2.blocks(b), sectors);
    const std::uint64_t fb = d2.db(b, 0);
    EXPECT_EQ(fb / frag, fa / frag) << "the second small file's fragments are not in the "
                                       "first's block: "
                                    << fa << ", " << fb;
    EXPECT_NE(fb, fa);
    EXPECT_EQ(g2.nbfree, g1.nbfree) << "a whole block was broken up";
    EXPECT_EQ(g1.nffree - g2.nffree, frags);

    put("/s/c", bsize + small);  // a whole block and a tail of fragments
    const OnDisk d3 = disk();
    const OnDisk::Group g3 = d3.group(c);
    const std::uint64_t cc = ino("/s/c");
    EXPECT_EQ(d3.blocks(cc), bsize / 512 + sectors);
    EXPECT_EQ(d3.db(cc, 1) / frag, fa / frag) << "the tail is not in the small files' block";
    EXPECT_EQ(d3.db(cc, 0) % frag, 0u);
    EXPECT_EQ(g2.nbfree - g3.nbfree, 1u);
    EXPECT_EQ(g2.nffree - g3.nffree, frags);

    // The fragments are each file's own: the contents read back.
    for (const auto& [p, size] : {std::pair<const char*, std::size_t>{"/s/a", small},
                                  {"/s/b", small},
                                  {"/s/c", bsize + small}}) {
        std::vector<std::byte> got(size + 10);
        auto n = m().read(p, 0, got);
        ASSERT_TRUE(n);
        got.resize(*n);
        EXPECT_EQ(got, pattern(size, static_cast<std::uint32_t>(size))) << p;
    }
}

INSTANTIATE_TEST_SUITE_P(Images, FfsAlloc, ::testing::ValuesIn(alloc_images),
                         [](const auto& info) { return std::string(info.param.image.name); });

}  // namespace
}  // namespace uk::ffs::test
