// tmpfs node limits (ta_nodes_max) and the statfs counts that report them.
#include "fixture.hpp"

namespace uk::tmpfs::test {
namespace {

TEST_F(TmpfsTest, NodeLimitGivesEnospc) {
    tmpfs_args a = make_args(0, 5);  // the root and four more
    mount(&a);
    EXPECT_EQ(statfs().files, 5u);
    EXPECT_EQ(statfs().ffree, 4u);
    mkdir("d");
    make("d/a");
    make("d/b");
    must(root()->symlink("l", "d", NewNode{VType::lnk, 0777, 0, 0, 0}));
    EXPECT_EQ(statfs().ffree, 0u);
    EXPECT_EQ(err(try_make("c")), ENOSPC);
    EXPECT_EQ(err(try_make("e", VType::dir)), ENOSPC);
    EXPECT_EQ(err(root()->symlink("m", "d", NewNode{VType::lnk, 0777, 0, 0, 0})), ENOSPC);
    // A hard link is no new node.
    must(try_link("d/a", "a2"));
    // A failed create left nothing behind.
    EXPECT_EQ(err(resolve("c")), ENOENT);
    EXPECT_EQ(stat("").nlink, 3u);
    // Freeing a node makes room; an unlinked node still counts until it is reclaimed.
    VnodePtr b = get("d/b");
    must(try_remove("d/b"));
    EXPECT_EQ(err(try_make("c")), ENOSPC);
    must(fs->reclaim(*b));
    EXPECT_EQ(statfs().ffree, 1u);
    make("c");
}

TEST_F(TmpfsTest, DefaultNodeLimitFollowsTheSizeLimit) {
    tmpfs_args a = make_args(64 * 1024, 0);  // NetBSD: 3 + one node per KiB
    mount(&a);
    EXPECT_EQ(statfs().files, 3u + 64);
    a = make_args(64 * 1024, 3);
    mount(&a);
    EXPECT_EQ(statfs().files, 3u + 64);
    a = make_args(0, 0);  // no limits: capped at INT_MAX like NetBSD
    mount(&a);
    EXPECT_EQ(statfs().files, static_cast<std::uint64_t>(INT32_MAX));
}

TEST_F(TmpfsTest, StatfsCountsPagesAndNodes) {
    tmpfs_args a = make_args(1 << 20, 100);
    mount(&a);
    const vfs::StatFs s0 = statfs();
    EXPECT_EQ(s0.blocks, 256u);
    EXPECT_EQ(s0.bfree, 256u);
    EXPECT_EQ(s0.files, 100u);
    EXPECT_EQ(s0.ffree, 99u);
    make("f");
    write("f", 0, std::string(10000, 'x'));
    const vfs::StatFs s1 = statfs();
    EXPECT_EQ(s1.bfree, 253u);
    EXPECT_EQ(s1.ffree, 98u);
    remove_and_reclaim("f");
    const vfs::StatFs s2 = statfs();
    EXPECT_EQ(s2.bfree, s0.bfree);
    EXPECT_EQ(s2.ffree, s0.ffree);
}

}  // namespace
}  // namespace uk::tmpfs::test
