// Extended attributes through the C++ API on tmpfs: the calls, setxattr's create/replace
// rules, and the namespace permissions the VFS applies (user.* by file permissions and on
// regular files and directories only, trusted.* root's, security.* and system.* writable by
// root).
#include <gtest/gtest.h>

#include <string>

#include <ukfs/ukfs.hpp>

namespace {

std::span<const std::byte> bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
std::string text(const std::vector<std::byte>& v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
}
template <class T>
int err(const uk::Result<T>& r) {
    return r ? 0 : r.error().errnum();
}

class Xattr : public ::testing::Test {
protected:
    void SetUp() override {
        uk::MountOptions o;
        o.type = "tmpfs";
        auto m = uk::Mount::open("", o);
        ASSERT_TRUE(m) << m.error().describe();
        mnt.emplace(std::move(*m));
        ASSERT_TRUE(mnt->create("/f", 0644));
        ASSERT_TRUE(mnt->mkdir("/d", 0755));
        ASSERT_TRUE(mnt->symlink("f", "/l"));
    }
    std::optional<uk::Mount> mnt;
};

TEST_F(Xattr, SetGetListRemove) {
    ASSERT_TRUE(mnt->set_xattr("/f", "user.a", bytes("one")));
    ASSERT_TRUE(mnt->set_xattr("/f", "user.b", bytes(std::string("\0\1\2", 3))));
    ASSERT_TRUE(mnt->set_xattr("/d", "user.c", bytes("")));
    EXPECT_EQ(text(*mnt->get_xattr("/f", "user.a")), "one");
    EXPECT_EQ(mnt->get_xattr("/f", "user.b")->size(), 3u);
    EXPECT_TRUE(mnt->get_xattr("/d", "user.c")->empty());
    EXPECT_EQ(*mnt->list_xattrs("/f"), (std::vector<std::string>{"user.a", "user.b"}));
    // Through the symlink by default, on the link itself with Follow::no.
    EXPECT_EQ(text(*mnt->get_xattr("/l", "user.a")), "one");
    EXPECT_TRUE(mnt->list_xattrs("/l", uk::Follow::no)->empty());
    ASSERT_TRUE(mnt->set_xattr("/f", "user.a", bytes("two")));
    EXPECT_EQ(text(*mnt->get_xattr("/f", "user.a")), "two");
    ASSERT_TRUE(mnt->remove_xattr("/f", "user.a"));
    EXPECT_EQ(err(mnt->get_xattr("/f", "user.a")), ENODATA);
    EXPECT_EQ(err(mnt->remove_xattr("/f", "user.a")), ENODATA);
}

TEST_F(Xattr, CreateAndReplace) {
    using M = uk::Mount::XattrMode;
    EXPECT_EQ(err(mnt->set_xattr("/f", "user.a", bytes("x"), M::replace)), ENODATA);
    ASSERT_TRUE(mnt->set_xattr("/f", "user.a", bytes("x"), M::create));
    EXPECT_EQ(err(mnt->set_xattr("/f", "user.a", bytes("y"), M::create)), EEXIST);
    ASSERT_TRUE(mnt->set_xattr("/f", "user.a", bytes("y"), M::replace));
    EXPECT_EQ(text(*mnt->get_xattr("/f", "user.a")), "y");
}

TEST_F(Xattr, NamesAndSizes) {
    EXPECT_EQ(err(mnt->set_xattr("/f", "nonamespace", bytes("x"))), EOPNOTSUPP);
    EXPECT_EQ(err(mnt->set_xattr("/f", "bogus.a", bytes("x"))), EOPNOTSUPP);
    EXPECT_EQ(err(mnt->set_xattr("/f", "user.", bytes("x"))), EOPNOTSUPP);
    EXPECT_EQ(err(mnt->set_xattr("/f", "user." + std::string(251, 'n'), bytes("x"))), ERANGE);
    const std::string big(65537, 'v');
    EXPECT_EQ(err(mnt->set_xattr("/f", "user.big", bytes(big))), E2BIG);
    ASSERT_TRUE(mnt->set_xattr("/f", "user.max", bytes(std::string(65536, 'v'))));
    EXPECT_EQ(mnt->get_xattr("/f", "user.max")->size(), 65536u);
}

TEST_F(Xattr, Permissions) {
    ASSERT_TRUE(mnt->set_xattr("/f", "trusted.t", bytes("root's")));
    ASSERT_TRUE(mnt->set_xattr("/f", "security.s", bytes("label")));
    ASSERT_TRUE(mnt->set_xattr("/f", "user.u", bytes("mine")));
    // user.* exists on regular files and directories only.
    EXPECT_EQ(err(mnt->set_xattr("/l", "user.u", bytes("x"), uk::Mount::XattrMode::any,
                                 uk::Follow::no)),
              EPERM);
    mnt->set_credentials(1000, 1000);
    EXPECT_EQ(text(*mnt->get_xattr("/f", "user.u")), "mine");  // 0644: readable
    EXPECT_EQ(err(mnt->set_xattr("/f", "user.u", bytes("theirs"))), EACCES);
    EXPECT_EQ(err(mnt->get_xattr("/f", "trusted.t")), ENODATA);
    EXPECT_EQ(*mnt->list_xattrs("/f"), (std::vector<std::string>{"security.s", "user.u"}));
    EXPECT_EQ(text(*mnt->get_xattr("/f", "security.s")), "label");
    EXPECT_EQ(err(mnt->set_xattr("/f", "security.s", bytes("x"))), EPERM);
    EXPECT_EQ(err(mnt->remove_xattr("/f", "security.s")), EPERM);
    mnt->set_credentials(0, 0);
    ASSERT_TRUE(mnt->chflags("/f", 0x2));  // UF_IMMUTABLE
    EXPECT_EQ(err(mnt->set_xattr("/f", "user.u", bytes("x"))), EPERM);
}

TEST_F(Xattr, ReadOnlyMountRefusesChanges) {
    uk::MountOptions o;
    o.type = "tmpfs";
    o.read_only = true;
    auto ro = uk::Mount::open("", o);
    ASSERT_TRUE(ro);
    EXPECT_EQ(err(ro->set_xattr("/", "user.a", bytes("x"))), EROFS);
    EXPECT_EQ(err(ro->remove_xattr("/", "user.a")), EROFS);
    EXPECT_TRUE(ro->list_xattrs("/")->empty());
}

}  // namespace
