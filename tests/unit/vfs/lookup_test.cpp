// Path resolution: confinement to the mount, symlinks, limits and errors. tmpfs is the driver.
#include <ukfs/ukfs.hpp>

#include <span>
#include <string>

#include <gtest/gtest.h>

using namespace uk;

namespace {

Mount tmpfs() {
    auto m = Mount::open("", MountOptions{.type = "tmpfs"});
    EXPECT_TRUE(m) << m.error().describe();
    return std::move(*m);
}

int err(const auto& r) { return r ? 0 : r.error().errnum(); }

std::uint64_t ino(Mount& m, std::string_view p, Follow f = Follow::yes) {
    auto st = m.stat(p, f);
    EXPECT_TRUE(st) << p << ": " << st.error().describe();
    return st ? st->st_ino : 0;
}

}  // namespace

TEST(Lookup, DotDotAtTheRootStaysThere) {
    Mount m = tmpfs();
    ASSERT_TRUE(m.mkdir("/d"));
    EXPECT_EQ(ino(m, "/.."), ino(m, "/"));
    EXPECT_EQ(ino(m, "/../../.."), ino(m, "/"));
    EXPECT_EQ(ino(m, "/d/../../../d"), ino(m, "/d"));
    EXPECT_EQ(ino(m, "d/.."), ino(m, "/"));
    ASSERT_TRUE(m.chdir("/d"));
    EXPECT_EQ(ino(m, "../../.."), ino(m, "/"));
    EXPECT_EQ(ino(m, "."), ino(m, "/d"));
}

TEST(Lookup, AbsoluteSymlinksStartAtTheImageRoot) {
    Mount m = tmpfs();
    ASSERT_TRUE(m.mkdir("/etc"));
    ASSERT_TRUE(m.create("/etc/passwd", 0644));
    ASSERT_TRUE(m.mkdir("/d"));
    ASSERT_TRUE(m.symlink("/etc/passwd", "/d/abs"));
    ASSERT_TRUE(m.symlink("../../../../etc/passwd", "/d/rel"));
    ASSERT_TRUE(m.symlink("/", "/d/root"));
    ASSERT_TRUE(m.symlink("/..", "/d/rootparent"));
    EXPECT_EQ(ino(m, "/d/abs"), ino(m, "/etc/passwd"));
    EXPECT_EQ(ino(m, "/d/rel"), ino(m, "/etc/passwd"));
    EXPECT_EQ(ino(m, "/d/root/etc"), ino(m, "/etc"));
    EXPECT_EQ(ino(m, "/d/rootparent"), ino(m, "/"));
    EXPECT_EQ(ino(m, "/d/root/../../.."), ino(m, "/"));
}

TEST(Lookup, LoopsEndInEloop) {
    Mount m = tmpfs();
    ASSERT_TRUE(m.symlink("b", "/a"));
    ASSERT_TRUE(m.symlink("a", "/b"));
    ASSERT_TRUE(m.symlink("self/x", "/self"));
    EXPECT_EQ(err(m.stat("/a")), ELOOP);
    EXPECT_EQ(err(m.stat("/self")), ELOOP);
    EXPECT_EQ(err(m.stat("/a", Follow::no)), 0);  // lstat of the link itself works
    // A chain of 32 links resolves; 33 do not (NetBSD's MAXSYMLINKS).
    ASSERT_TRUE(m.create("/t", 0644));
    std::string prev = "/t";
    for (int i = 0; i < 33; ++i) {
        std::string name = "/l" + std::to_string(i);
        ASSERT_TRUE(m.symlink(prev, name));
        prev = name;
    }
    EXPECT_EQ(err(m.stat("/l31")), 0);
    EXPECT_EQ(err(m.stat("/l32")), ELOOP);
}

TEST(Lookup, Errors) {
    Mount m = tmpfs();
    ASSERT_TRUE(m.create("/f", 0644));
    EXPECT_EQ(err(m.stat("/f/x")), ENOTDIR);
    EXPECT_EQ(err(m.stat("/f/")), ENOTDIR);
    EXPECT_EQ(err(m.stat("/nope")), ENOENT);
    EXPECT_EQ(err(m.stat("/nope/x")), ENOENT);
    EXPECT_EQ(err(m.stat("")), ENOENT);
    EXPECT_EQ(err(m.stat("/" + std::string(256, 'a'))), ENAMETOOLONG);
    EXPECT_EQ(err(m.stat("/" + std::string(2000, 'a'))), ENAMETOOLONG);
    EXPECT_EQ(err(m.mkdir("/" + std::string(255, 'b'))), 0);
    ASSERT_TRUE(m.symlink("", "/empty"));
    EXPECT_EQ(err(m.stat("/empty")), ENOENT);
    EXPECT_EQ(err(m.chdir("/f")), ENOTDIR);
}

TEST(Lookup, TrailingSlashesAndDots) {
    Mount m = tmpfs();
    ASSERT_TRUE(m.mkdir("/d/"));
    EXPECT_EQ(ino(m, "/d//"), ino(m, "//d"));
    EXPECT_EQ(err(m.mkdir("/d/.")), EEXIST);
    EXPECT_EQ(err(m.mkdir("/")), EEXIST);
    EXPECT_EQ(err(m.rmdir("/d/.")), EINVAL);
    EXPECT_EQ(err(m.rmdir("/")), EBUSY);
    EXPECT_EQ(err(m.create("/d/f/", 0644)), ENOENT);
    ASSERT_TRUE(m.symlink("d", "/ld"));
    EXPECT_EQ(ino(m, "/ld/"), ino(m, "/d"));  // a trailing slash follows the link
}

TEST(Lookup, PermissionsForNonRoot) {
    Mount m = tmpfs();
    ASSERT_TRUE(m.mkdir("/priv", 0700));
    ASSERT_TRUE(m.create("/priv/f", 0644));
    ASSERT_TRUE(m.mkdir("/pub", 0777));
    m.set_credentials(1000, 1000);
    EXPECT_EQ(err(m.stat("/priv/f")), EACCES);
    EXPECT_EQ(err(m.mkdir("/priv/x")), EACCES);
    EXPECT_EQ(err(m.mkdir("/pub/mine")), 0);
    auto st = m.stat("/pub/mine");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->st_uid, 1000u);
    EXPECT_EQ(err(m.chown("/pub/mine", 0, std::nullopt)), EPERM);
    EXPECT_EQ(err(m.chmod("/priv", 0777)), EPERM);
    ASSERT_TRUE(m.create("/pub/setid", 06755));
    auto written = m.write("/pub/setid", 0, std::as_bytes(std::span("x", 1)));
    EXPECT_TRUE(written);
    EXPECT_EQ(m.stat("/pub/setid")->st_mode & 07777, 0755u);  // a write clears set-id bits
    m.set_credentials(0, 0);
    EXPECT_EQ(err(m.stat("/priv/f")), 0);
    ASSERT_TRUE(m.chmod("/pub/setid", 06755));
    EXPECT_TRUE(m.write("/pub/setid", 0, std::as_bytes(std::span("y", 1))));
    EXPECT_EQ(m.stat("/pub/setid")->st_mode & 07777, 06755u);  // but not root's
}
