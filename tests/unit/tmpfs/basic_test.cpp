// tmpfs: mounting, registration, node types, lookup and the errors of single-node operations.
#include <sys/sysmacros.h>

#include "fs/tmpfs/register.hpp"
#include "fixture.hpp"

namespace uk::tmpfs::test {
namespace {

TEST_F(TmpfsTest, DefaultRootIsAWorldWritableStickyDirectory) {
    Attr a = must(root()->getattr());
    EXPECT_EQ(a.type, VType::dir);
    EXPECT_EQ(a.mode, 01777u);
    EXPECT_EQ(a.uid, 0u);
    EXPECT_EQ(a.gid, 0u);
    EXPECT_EQ(a.nlink, 2u);
    EXPECT_EQ(a.ino, fs->root());
    EXPECT_EQ(root()->ino(), fs->root());
    EXPECT_FALSE(fs->read_only());
    vfs::StatFs s = statfs();
    EXPECT_EQ(s.bsize, 4096u);
    EXPECT_EQ(s.namemax, 255u);
    EXPECT_EQ(s.bfree, s.blocks);
    EXPECT_EQ(s.files, s.ffree + 1);  // the root
    EXPECT_TRUE(fs->sync());
}

TEST_F(TmpfsTest, ArgumentsSetTheRoot) {
    tmpfs_args a = make_args();
    a.ta_root_uid = 1000;
    a.ta_root_gid = 50;
    a.ta_root_mode = 040750;  // the type bits are ignored
    mount(&a);
    Attr r = must(root()->getattr());
    EXPECT_EQ(r.uid, 1000u);
    EXPECT_EQ(r.gid, 50u);
    EXPECT_EQ(r.mode, 0750u);
}

TEST_F(TmpfsTest, BadArgumentsAreEinval) {
    vfs::MountRequest req;
    tmpfs_args a = make_args();
    req.args = &a;
    req.args_len = sizeof a;
    a.ta_version = 2;
    EXPECT_EQ(err(mount_tmpfs(req)), EINVAL);
    a = make_args();
    req.args_len = sizeof a - 1;
    EXPECT_EQ(err(mount_tmpfs(req)), EINVAL);
    req.args_len = sizeof a;
    a.ta_root_uid = static_cast<uid_t>(-1);  // VNOVAL
    EXPECT_EQ(err(mount_tmpfs(req)), EINVAL);
    a = make_args();
    EXPECT_TRUE(mount_tmpfs(req));
}

TEST(TmpfsRegistry, RegistersADeviceLessDriver) {
    vfs::Registry registry;
    register_tmpfs(registry);
    register_tmpfs(registry);  // a second time is harmless
    std::optional<vfs::Driver> d = registry.find("tmpfs");
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->needs_device);
    EXPECT_FALSE(d->detect);
    vfs::MountRequest req;
    auto mounted = d->mount(req);
    ASSERT_TRUE(mounted);
    EXPECT_TRUE(must((*mounted)->statfs()).blocks > 0);
}

TEST_F(TmpfsTest, CreatesEveryNodeType) {
    make("file", VType::reg, 0640);
    mkdir("dir");
    make("fifo", VType::fifo, 0600);
    make("sock", VType::sock, 0600);
    must(root()->create("blk", NewNode{VType::blk, 0600, 0, 0, makedev(8, 1)}));
    must(root()->create("chr", NewNode{VType::chr, 0620, 0, 5, makedev(4, 64)}));
    must(root()->symlink("link", "file", NewNode{VType::lnk, 0777, 7, 8, 0}));

    EXPECT_EQ(stat("file").type, VType::reg);
    EXPECT_EQ(stat("file").mode, 0640u);
    EXPECT_EQ(stat("file").uid, 1000u);
    EXPECT_EQ(stat("file").gid, 100u);
    EXPECT_EQ(stat("file").nlink, 1u);
    EXPECT_EQ(stat("file").size, 0u);
    EXPECT_EQ(stat("dir").type, VType::dir);
    EXPECT_EQ(stat("dir").nlink, 2u);
    EXPECT_EQ(stat("fifo").type, VType::fifo);
    EXPECT_EQ(stat("sock").type, VType::sock);
    EXPECT_EQ(stat("blk").type, VType::blk);
    EXPECT_EQ(stat("blk").rdev, makedev(8, 1));
    EXPECT_EQ(stat("chr").type, VType::chr);
    EXPECT_EQ(stat("chr").rdev, makedev(4, 64));
    Attr l = stat("link");
    EXPECT_EQ(l.type, VType::lnk);
    EXPECT_EQ(l.size, 4u);
    EXPECT_EQ(l.uid, 7u);
    EXPECT_EQ(must(get("link")->readlink()), "file");
    EXPECT_EQ(get("link")->type(), VType::lnk);

    // Every inode number differs, and readdir reports the types.
    std::vector<Listed> all = list("");
    ASSERT_EQ(all.size(), 9u);
    for (std::size_t i = 2; i < all.size(); ++i) {
        EXPECT_EQ(all[i].ino, stat(all[i].name).ino);
        EXPECT_EQ(all[i].type, stat(all[i].name).type);
        for (std::size_t j = 0; j < i; ++j)
            EXPECT_NE(all[i].ino, all[j].ino);
    }
}

TEST_F(TmpfsTest, LookupFindsEntriesAndDotDot) {
    InodeNo d = mkdir("d");
    InodeNo f = make("d/f");
    EXPECT_EQ(must(root()->lookup("d")), d);
    EXPECT_EQ(must(get("d")->lookup("f")), f);
    EXPECT_EQ(must(get("d")->lookup("..")), fs->root());
    EXPECT_EQ(must(get("d")->lookup(".")), d);
    EXPECT_EQ(err(root()->lookup("missing")), ENOENT);
    EXPECT_EQ(err(get("d/f")->lookup("x")), ENOTDIR);
}

TEST_F(TmpfsTest, NamesAreLimitedTo255Bytes) {
    const std::string longest(255, 'n');
    const std::string too_long(256, 'n');
    make(longest);
    EXPECT_EQ(must(root()->lookup(longest)), stat(longest).ino);
    EXPECT_EQ(err(try_make(too_long)), ENAMETOOLONG);
    EXPECT_EQ(err(root()->lookup(too_long)), ENAMETOOLONG);
    EXPECT_EQ(err(root()->symlink(too_long, "x", NewNode{VType::lnk, 0777, 0, 0, 0})),
              ENAMETOOLONG);
    EXPECT_EQ(err(try_link(longest, too_long)), ENAMETOOLONG);
    EXPECT_EQ(err(try_rename(longest, too_long)), ENAMETOOLONG);
}

TEST_F(TmpfsTest, CreateErrors) {
    make("f");
    EXPECT_EQ(err(try_make("f")), EEXIST);
    EXPECT_EQ(err(try_make("f/x")), ENOTDIR);
    EXPECT_EQ(err(try_make("bad", VType::none)), EINVAL);
    EXPECT_EQ(err(try_make("lnk", VType::lnk)), EINVAL);  // symlink() makes links
    EXPECT_EQ(err(root()->create("a/b", NewNode{})), EINVAL);
    EXPECT_EQ(err(root()->create("..", NewNode{})), EINVAL);
    const std::string long_target(1024, 't');
    EXPECT_EQ(err(root()->symlink("l", long_target, NewNode{VType::lnk, 0777, 0, 0, 0})),
              ENAMETOOLONG);
    must(root()->symlink("l", long_target.substr(1), NewNode{VType::lnk, 0777, 0, 0, 0}));
    EXPECT_EQ(must(get("l")->readlink()).size(), 1023u);
}

TEST_F(TmpfsTest, OperationsOnTheWrongType) {
    make("f");
    mkdir("d");
    must(root()->symlink("l", "f", NewNode{VType::lnk, 0777, 0, 0, 0}));
    make("p", VType::fifo);
    std::byte buf[4];
    EXPECT_EQ(err(get("d")->read(0, buf)), EISDIR);
    EXPECT_EQ(err(get("d")->write(0, bytes("x"))), EISDIR);
    EXPECT_EQ(err(get("l")->read(0, buf)), EINVAL);
    EXPECT_EQ(err(get("p")->write(0, bytes("x"))), EINVAL);
    EXPECT_EQ(err(get("f")->readlink()), EINVAL);
    EXPECT_EQ(err(get("d")->readlink()), EINVAL);
    EXPECT_EQ(err(get("f")->readdir(0, [](const vfs::DirEntry&, std::uint64_t) { return true; })),
              ENOTDIR);
    SetAttr grow;
    grow.size = 10;
    EXPECT_EQ(err(get("d")->setattr(grow)), EISDIR);
    EXPECT_EQ(err(get("l")->setattr(grow)), EINVAL);
    EXPECT_TRUE(get("p")->setattr(grow));  // ignored, as NetBSD does
    EXPECT_EQ(stat("p").size, 0u);
}

TEST_F(TmpfsTest, LoadOfAnUnknownInodeIsEnoent) {
    EXPECT_EQ(err(fs->load(12345)), ENOENT);
}

TEST_F(TmpfsTest, SetattrChangesWhatItIsGiven) {
    make("f");
    SetAttr c;
    c.mode = 0104755;  // type bits dropped
    c.uid = 42;
    c.gid = 43;
    c.atime = timespec{1000, 1};
    c.mtime = timespec{2000, 2};
    c.birthtime = timespec{500, 5};
    c.flags = UF_NODUMP;
    setattr("f", c);
    Attr a = stat("f");
    EXPECT_EQ(a.mode, 04755u);
    EXPECT_EQ(a.uid, 42u);
    EXPECT_EQ(a.gid, 43u);
    EXPECT_EQ(ts(a.atime), ts(timespec{1000, 1}));
    EXPECT_EQ(ts(a.mtime), ts(timespec{2000, 2}));
    EXPECT_EQ(ts(a.birthtime), ts(timespec{500, 5}));
    EXPECT_EQ(a.flags, static_cast<std::uint32_t>(UF_NODUMP));
    SetAttr only_uid;
    only_uid.uid = 7;
    setattr("f", only_uid);
    EXPECT_EQ(stat("f").mode, 04755u);
    EXPECT_EQ(stat("f").gid, 43u);
}

TEST_F(TmpfsTest, ReadOnlyMountRefusesChanges) {
    tmpfs_args a = make_args();
    mount(&a, MNT_RDONLY);
    EXPECT_TRUE(fs->read_only());
    EXPECT_EQ(err(try_make("g")), EROFS);
    EXPECT_EQ(err(root()->symlink("l", "x", NewNode{VType::lnk, 0777, 0, 0, 0})), EROFS);
    SetAttr c;
    c.mode = 0600;
    EXPECT_EQ(err(root()->setattr(c)), EROFS);
    EXPECT_EQ(names(""), (std::vector<std::string>{".", ".."}));
}

TEST_F(TmpfsTest, UnmountGivesThePagesBack) {
    make("f");
    write("f", 0, std::string(10000, 'x'));
    const std::uint64_t used = statfs().blocks - statfs().bfree;
    EXPECT_EQ(used, 3u);
    VnodePtr held = get("f");  // a vnode may outlive the unmount without dangling
    must(fs->unmount());
    EXPECT_EQ(statfs().blocks - statfs().bfree, 0u);
    EXPECT_EQ(held->ino(), must(held->getattr()).ino);
}

}  // namespace
}  // namespace uk::tmpfs::test
