// chflags(2) on ext2fs through the VFS: immutable and append-only nodes refuse what NetBSD's
// ufs refuses (the rules live in the VFS, for every driver), the flags reach the disk as the
// ext flags debugfs shows, and e2fsck finds the image clean afterwards.
#include <fcntl.h>

#include <ukfs/netbsd.h>

#include <gtest/gtest.h>

#include "image_support.hpp"

namespace uk::ext2fs::test {
namespace {

constexpr std::uint32_t ext2_immutable_fl = 0x10;  // EXT2_IMMUTABLE_FL
constexpr std::uint32_t ext2_append_fl = 0x20;     // EXT2_APPEND_FL

int err(const Result<void>& r) {
    return r ? 0 : r.error().errnum();
}

template <typename T>
int err(const Result<T>& r) {
    return r ? 0 : r.error().errnum();
}

std::vector<std::byte> bytes(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return {p, p + s.size()};
}

class Ext2fsFlags : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_tool("mke2fs") || !have_tool("debugfs") || !have_tool("e2fsck"))
            GTEST_SKIP() << "e2fsprogs not installed";
        fs::create_directories(dir.path() / "src/d");
        write_host_file(dir.path() / "src/f", bytes("frozen"));
        write_host_file(dir.path() / "src/d/in", bytes("inside"));
        img = dir.path() / "img";
        ASSERT_EQ(make_image(dir.path() / "src", img, "ext4", "8M"), 0);
        auto m = mount_image(img, std::size_t{1} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        mount = std::move(*m);
    }

    // The inode flags debugfs reads for `path`.
    std::uint32_t disk_flags(const std::string& path) {
        const std::string out =
            capture("debugfs -R 'stat " + path + "' " + img.string() + " 2>/dev/null");
        const auto at = out.find("Flags: 0x");
        if (at == std::string::npos)
            return ~0u;
        return static_cast<std::uint32_t>(std::stoul(out.substr(at + 9), nullptr, 16));
    }

    void unmount_and_check() {
        ASSERT_TRUE(mount->unmount(false));
        mount.reset();
        EXPECT_EQ(run("e2fsck -fn " + img.string() + " >/dev/null 2>&1"), 0);
    }

    TempDir dir;
    fs::path img;
    std::unique_ptr<vfs::Mount> mount;
};

TEST_F(Ext2fsFlags, ImmutableFileRefusesEveryChange) {
    vfs::Mount& m = *mount;
    ASSERT_TRUE(m.chflags("/f", UF_IMMUTABLE, vfs::Follow::yes));
    EXPECT_EQ(m.stat("/f", vfs::Follow::yes)->flags, std::uint32_t{SF_IMMUTABLE});
    EXPECT_EQ(err(m.write("/f", 0, bytes("x"))), EPERM);
    EXPECT_EQ(err(m.write("/f", 6, bytes("x"))), EPERM);
    EXPECT_EQ(err(m.truncate("/f", 0)), EPERM);
    EXPECT_EQ(err(m.open("/f", O_WRONLY, 0)), EPERM);
    EXPECT_EQ(err(m.open("/f", O_WRONLY | O_APPEND, 0)), EPERM);
    auto reader = m.open("/f", O_RDONLY, 0);
    ASSERT_TRUE(reader) << reader.error().describe();
    ASSERT_TRUE(m.close(*reader));
    EXPECT_EQ(err(m.chmod("/f", 0600, vfs::Follow::yes)), EPERM);
    EXPECT_EQ(err(m.chown("/f", 1, 1, vfs::Follow::yes)), EPERM);
    EXPECT_EQ(err(m.utimes("/f", timespec{1, 0}, timespec{1, 0}, vfs::Follow::yes)), EPERM);
    EXPECT_EQ(err(m.remove("/f")), EPERM);
    EXPECT_EQ(err(m.rename("/f", "/g")), EPERM);
    EXPECT_EQ(err(m.link("/f", "/g")), EPERM);
    EXPECT_EQ(err(m.rename("/d/in", "/f")), EPERM);  // replacing it is removing it
    EXPECT_EQ(err(m.setxattr("/f", "user.a", bytes("1"), vfs::XattrSet::any, vfs::Follow::yes)),
              EPERM);
    std::vector<std::byte> buf(16);
    auto n = m.read("/f", 0, buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 6u);
    unmount_and_check();
    EXPECT_EQ(disk_flags("/f") & (ext2_immutable_fl | ext2_append_fl), ext2_immutable_fl);
}

TEST_F(Ext2fsFlags, AppendOnlyFileTakesWritesAtItsEndOnly) {
    vfs::Mount& m = *mount;
    ASSERT_TRUE(m.chflags("/f", SF_APPEND, vfs::Follow::yes));
    EXPECT_EQ(err(m.write("/f", 0, bytes("x"))), EPERM);
    EXPECT_EQ(err(m.write("/f", 6, bytes("+"))), 0);
    EXPECT_EQ(err(m.open("/f", O_WRONLY, 0)), EPERM);
    EXPECT_EQ(err(m.open("/f", O_WRONLY | O_APPEND | O_TRUNC, 0)), EPERM);
    auto fd = m.open("/f", O_WRONLY | O_APPEND, 0);
    ASSERT_TRUE(fd) << fd.error().describe();
    EXPECT_TRUE(m.write_fd(*fd, 0, bytes("!"), false));  // O_APPEND: at the end, whatever asked
    ASSERT_TRUE(m.close(*fd));
    EXPECT_EQ(m.stat("/f", vfs::Follow::yes)->size, 8u);
    EXPECT_EQ(err(m.truncate("/f", 2)), EPERM);
    EXPECT_EQ(err(m.chmod("/f", 0600, vfs::Follow::yes)), EPERM);
    EXPECT_EQ(err(m.remove("/f")), EPERM);
    EXPECT_EQ(err(m.rename("/f", "/d/f")), EPERM);
    unmount_and_check();
    EXPECT_EQ(disk_flags("/f") & (ext2_immutable_fl | ext2_append_fl), ext2_append_fl);
    EXPECT_EQ(capture("debugfs -R 'cat /f' " + img.string() + " 2>/dev/null"), "frozen+!");
}

TEST_F(Ext2fsFlags, ImmutableDirectoryTakesAndLosesNoEntries) {
    vfs::Mount& m = *mount;
    ASSERT_TRUE(m.chflags("/d", UF_IMMUTABLE, vfs::Follow::yes));
    EXPECT_EQ(err(m.create("/d/new", 0644, true)), EPERM);
    EXPECT_EQ(err(m.open("/d/new", O_WRONLY | O_CREAT, 0644)), EPERM);
    EXPECT_EQ(err(m.mkdir("/d/sub", 0755)), EPERM);
    EXPECT_EQ(err(m.symlink("x", "/d/l")), EPERM);
    EXPECT_EQ(err(m.link("/f", "/d/f")), EPERM);
    EXPECT_EQ(err(m.remove("/d/in")), EPERM);
    EXPECT_EQ(err(m.rename("/d/in", "/in")), EPERM);
    EXPECT_EQ(err(m.rename("/f", "/d/f")), EPERM);
    EXPECT_EQ(err(m.rmdir("/d")), EPERM);
    // Its files are not frozen themselves.
    EXPECT_EQ(err(m.write("/d/in", 0, bytes("I"))), 0);
    // Clearing the flag gives everything back.
    ASSERT_TRUE(m.chflags("/d", 0, vfs::Follow::yes));
    EXPECT_EQ(err(m.rename("/d/in", "/in")), 0);
    unmount_and_check();
    EXPECT_EQ(disk_flags("/d") & ext2_immutable_fl, 0u);
}

TEST_F(Ext2fsFlags, AppendOnlyDirectoryTakesEntriesButLosesNone) {
    vfs::Mount& m = *mount;
    ASSERT_TRUE(m.chflags("/d", UF_APPEND, vfs::Follow::yes));
    EXPECT_EQ(err(m.create("/d/new", 0644, true)), 0);
    EXPECT_EQ(err(m.rename("/f", "/d/f")), 0);
    EXPECT_EQ(err(m.remove("/d/in")), EPERM);
    EXPECT_EQ(err(m.rename("/d/in", "/in")), EPERM);
    EXPECT_EQ(err(m.rename("/d/new", "/d/in")), EPERM);  // would drop "in"
    unmount_and_check();
    EXPECT_EQ(disk_flags("/d") & ext2_append_fl, ext2_append_fl);
    const std::string ls = capture("debugfs -R 'ls /d' " + img.string() + " 2>/dev/null");
    EXPECT_NE(ls.find("new"), std::string::npos);
    EXPECT_NE(ls.find(" f "), std::string::npos) << ls;
}

}  // namespace
}  // namespace uk::ext2fs::test
