// The C API, called as a NetBSD client calls it: every function, and its errno on failure.
#include <rump/ukfs.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>

#include <cstring>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace {

class CApi : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(ukfs_init(), 0);
        fs = ukfs_mount(MOUNT_TMPFS, "tmpfs", UKFS_DEFAULTMP, 0, nullptr, 0);
        ASSERT_NE(fs, nullptr) << strerror(errno);
    }
    void TearDown() override {
        if (fs) {
            EXPECT_EQ(ukfs_release(fs, UKFS_RELFLAG_FORCE), 0);
        }
    }
    // -1 and this errno.
    static ::testing::AssertionResult fails(long rv, int want) {
        if (rv == -1 && errno == want)
            return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure()
               << "returned " << rv << " errno " << errno << " (" << strerror(errno)
               << "), wanted -1 and " << strerror(want);
    }
    std::set<std::string> names(const char* dir) {
        std::set<std::string> out;
        uint8_t buf[256];
        off_t off = 0;
        int n;
        while ((n = ukfs_getdents(fs, dir, &off, buf, sizeof buf)) > 0) {
            for (int pos = 0; pos < n;) {
                // The record is shorter than struct ukfs_dirent: read its fixed part, then
                // the name that follows it.
                ukfs_dirent d;
                std::memcpy(&d, buf + pos, UKFS_DIRENT_NAMEOFF);
                const char* name = reinterpret_cast<const char*>(buf + pos + UKFS_DIRENT_NAMEOFF);
                EXPECT_EQ(d.d_reclen % 8, 0);
                EXPECT_EQ(name[d.d_namlen], '\0');
                out.insert(std::string(name, d.d_namlen));
                if (d.d_reclen == 0)
                    return out;
                pos += d.d_reclen;
            }
        }
        EXPECT_EQ(n, 0);
        return out;
    }
    struct ukfs* fs = nullptr;
    uint8_t data[10] = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9'};
};

}  // namespace

TEST_F(CApi, InitChecksTheVersion) {
    EXPECT_TRUE(fails(_ukfs_init(UKFS_VERSION + 1), EPROGMISMATCH));
}

TEST_F(CApi, MountErrors) {
    EXPECT_EQ(ukfs_mount("nosuchfs", "x", UKFS_DEFAULTMP, 0, nullptr, 0), nullptr);
    EXPECT_EQ(errno, ENODEV);
    EXPECT_NE(std::string(ukfs_errmsg()).find("nosuchfs"), std::string::npos);
    tmpfs_args bad{};
    bad.ta_version = 99;
    EXPECT_EQ(ukfs_mount(MOUNT_TMPFS, "tmpfs", UKFS_DEFAULTMP, 0, &bad, sizeof bad), nullptr);
    EXPECT_EQ(errno, EINVAL);
}

TEST_F(CApi, CreateWriteRead) {
    EXPECT_EQ(ukfs_create(fs, "/f", 0600), 0);
    EXPECT_EQ(ukfs_write(fs, "/f", 0, data, 10), 10);
    EXPECT_EQ(ukfs_create(fs, "/f", 0600), 0);  // existing: not truncated
    struct stat st;
    ASSERT_EQ(ukfs_stat(fs, "/f", &st), 0);
    EXPECT_EQ(st.st_size, 10);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    uint8_t buf[16];
    EXPECT_EQ(ukfs_read(fs, "/f", 8, buf, sizeof buf), 2);
    EXPECT_EQ(ukfs_read(fs, "/f", 100, buf, sizeof buf), 0);
    EXPECT_TRUE(fails(ukfs_read(fs, "/nope", 0, buf, 1), ENOENT));
    EXPECT_TRUE(fails(ukfs_write(fs, "/nope", 0, data, 1), ENOENT));  // not created
    EXPECT_TRUE(fails(ukfs_read(fs, "/f", -1, buf, 1), EINVAL));
    EXPECT_EQ(ukfs_mkdir(fs, "/d", 0755), 0);
    EXPECT_TRUE(fails(ukfs_read(fs, "/d", 0, buf, 1), EISDIR));
    EXPECT_TRUE(fails(ukfs_write(fs, "/d", 0, data, 1), EISDIR));
    EXPECT_TRUE(fails(ukfs_create(fs, "/nodir/f", 0600), ENOENT));
    EXPECT_TRUE(fails(ukfs_create(fs, "/f/x", 0600), ENOTDIR));
}

TEST_F(CApi, Descriptors) {
    ASSERT_EQ(ukfs_create(fs, "/f", 0644), 0);
    int fd = ukfs_open(fs, "/f", O_RDWR);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(ukfs_write_fd(fs, fd, 0, data, 10, 1), 10);
    uint8_t buf[16];
    EXPECT_EQ(ukfs_read_fd(fs, fd, 0, buf, sizeof buf), 10);
    EXPECT_EQ(ukfs_remove(fs, "/f"), 0);
    EXPECT_EQ(ukfs_read_fd(fs, fd, 5, buf, sizeof buf), 5);  // usable until closed
    EXPECT_EQ(ukfs_close(fs, fd), 0);
    EXPECT_TRUE(fails(ukfs_close(fs, fd), EBADF));
    EXPECT_TRUE(fails(ukfs_read_fd(fs, fd, 0, buf, 1), EBADF));
    EXPECT_TRUE(fails(ukfs_write_fd(fs, 1234, 0, data, 1, 0), EBADF));
    EXPECT_TRUE(fails(ukfs_open(fs, "/nope", O_RDONLY), ENOENT));
    ASSERT_EQ(ukfs_mkdir(fs, "/d", 0755), 0);
    EXPECT_TRUE(fails(ukfs_open(fs, "/d", O_WRONLY), EISDIR));
}

TEST_F(CApi, NamespaceOperations) {
    ASSERT_EQ(ukfs_mkdir(fs, "/d", 0755), 0);
    EXPECT_TRUE(fails(ukfs_mkdir(fs, "/d", 0755), EEXIST));
    ASSERT_EQ(ukfs_create(fs, "/d/f", 0644), 0);
    EXPECT_TRUE(fails(ukfs_rmdir(fs, "/d"), ENOTEMPTY));
    EXPECT_TRUE(fails(ukfs_rmdir(fs, "/d/f"), ENOTDIR));
    EXPECT_TRUE(fails(ukfs_remove(fs, "/d"), EISDIR));
    EXPECT_TRUE(fails(ukfs_remove(fs, "/d/nope"), ENOENT));
    EXPECT_EQ(ukfs_link(fs, "/d/f", "/g"), 0);
    EXPECT_TRUE(fails(ukfs_link(fs, "/d/f", "/g"), EEXIST));
    EXPECT_TRUE(fails(ukfs_link(fs, "/d", "/d2"), EPERM));
    struct stat st;
    ASSERT_EQ(ukfs_stat(fs, "/g", &st), 0);
    EXPECT_EQ(st.st_nlink, 2u);
    EXPECT_EQ(ukfs_rename(fs, "/g", "/d/h"), 0);
    EXPECT_TRUE(fails(ukfs_rename(fs, "/nope", "/x"), ENOENT));
    EXPECT_TRUE(fails(ukfs_rename(fs, "/d", "/d/sub"), EINVAL));
    EXPECT_EQ(names("/d"), (std::set<std::string>{".", "..", "f", "h"}));
    EXPECT_EQ(ukfs_remove(fs, "/d/f"), 0);
    EXPECT_EQ(ukfs_remove(fs, "/d/h"), 0);
    EXPECT_EQ(ukfs_rmdir(fs, "/d"), 0);
    EXPECT_TRUE(fails(ukfs_rmdir(fs, "/d"), ENOENT));
}

TEST_F(CApi, SpecialFiles) {
    EXPECT_EQ(ukfs_mknod(fs, "/blk", S_IFBLK | 0600, makedev(8, 1)), 0);
    EXPECT_EQ(ukfs_mkfifo(fs, "/fifo", 0644), 0);
    EXPECT_TRUE(fails(ukfs_mknod(fs, "/bad", S_IFDIR | 0755, 0), EINVAL));
    struct stat st;
    ASSERT_EQ(ukfs_stat(fs, "/blk", &st), 0);
    EXPECT_TRUE(S_ISBLK(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(8, 1));
    ASSERT_EQ(ukfs_stat(fs, "/fifo", &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    uint8_t buf[4];
    EXPECT_TRUE(fails(ukfs_read(fs, "/fifo", 0, buf, 1), ENXIO));
}

TEST_F(CApi, Symlinks) {
    ASSERT_EQ(ukfs_mkdir(fs, "/d", 0755), 0);
    EXPECT_EQ(ukfs_symlink(fs, "/d", "/l"), 0);
    EXPECT_TRUE(fails(ukfs_symlink(fs, "/d", "/l"), EEXIST));
    char buf[8];
    std::memset(buf, 'X', sizeof buf);
    EXPECT_EQ(ukfs_readlink(fs, "/l", buf, sizeof buf), 2);
    EXPECT_EQ(buf[2], 'X');  // not NUL-terminated
    EXPECT_EQ(ukfs_readlink(fs, "/l", buf, 1), 1);
    EXPECT_TRUE(fails(ukfs_readlink(fs, "/d", buf, sizeof buf), EINVAL));
    struct stat st;
    ASSERT_EQ(ukfs_lstat(fs, "/l", &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(ukfs_stat(fs, "/l", &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(ukfs_symlink(fs, "/l2", "/l1"), 0);
    EXPECT_EQ(ukfs_symlink(fs, "/l1", "/l2"), 0);
    EXPECT_TRUE(fails(ukfs_stat(fs, "/l1", &st), ELOOP));
}

TEST_F(CApi, Attributes) {
    ASSERT_EQ(ukfs_create(fs, "/f", 0644), 0);
    ASSERT_EQ(ukfs_symlink(fs, "f", "/l"), 0);
    EXPECT_EQ(ukfs_chmod(fs, "/l", 0600), 0);  // follows
    EXPECT_EQ(ukfs_lchmod(fs, "/l", 0700), 0);
    EXPECT_EQ(ukfs_chown(fs, "/l", 5, 6), 0);
    EXPECT_EQ(ukfs_lchown(fs, "/l", 7, static_cast<gid_t>(-1)), 0);
    struct stat st, lst;
    ASSERT_EQ(ukfs_stat(fs, "/f", &st), 0);
    ASSERT_EQ(ukfs_lstat(fs, "/l", &lst), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(lst.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_uid, 5u);
    EXPECT_EQ(st.st_gid, 6u);
    EXPECT_EQ(lst.st_uid, 7u);
    timeval tv[2] = {{100, 5}, {200, 7}};
    EXPECT_EQ(ukfs_utimes(fs, "/f", tv), 0);
    ASSERT_EQ(ukfs_stat(fs, "/f", &st), 0);
    EXPECT_EQ(st.st_atim.tv_sec, 100);
    EXPECT_EQ(st.st_mtim.tv_sec, 200);
    EXPECT_EQ(st.st_mtim.tv_nsec, 7000);
    EXPECT_EQ(ukfs_lutimes(fs, "/l", nullptr), 0);
    ASSERT_EQ(ukfs_lstat(fs, "/l", &lst), 0);
    EXPECT_GT(lst.st_mtim.tv_sec, 200);
    EXPECT_EQ(ukfs_chflags(fs, "/f", UF_IMMUTABLE), 0);
    EXPECT_TRUE(fails(ukfs_write(fs, "/f", 0, data, 1), EPERM));
    EXPECT_TRUE(fails(ukfs_remove(fs, "/f"), EPERM));
    EXPECT_EQ(ukfs_chflags(fs, "/f", 0), 0);
    EXPECT_EQ(ukfs_lchflags(fs, "/l", UF_NODUMP), 0);
    EXPECT_TRUE(fails(ukfs_chflags(fs, "/f", 0x80000000ul), EOPNOTSUPP));
    EXPECT_TRUE(fails(ukfs_chmod(fs, "/nope", 0600), ENOENT));
}

TEST_F(CApi, ChdirAndRelativePaths) {
    ASSERT_EQ(ukfs_util_builddirs(fs, "/a/b/c", 0755), 0);
    EXPECT_EQ(ukfs_util_builddirs(fs, "/a/b/c", 0755), 0);  // existing is fine
    EXPECT_EQ(ukfs_chdir(fs, "/a/b"), 0);
    EXPECT_EQ(ukfs_create(fs, "c/f", 0644), 0);
    struct stat st;
    EXPECT_EQ(ukfs_stat(fs, "/a/b/c/f", &st), 0);
    EXPECT_EQ(ukfs_stat(fs, "../../a/b/c/f", &st), 0);
    EXPECT_TRUE(fails(ukfs_chdir(fs, "/nope"), ENOENT));
    EXPECT_TRUE(fails(ukfs_chdir(fs, "c/f"), ENOTDIR));
    ASSERT_EQ(ukfs_create(fs, "/x", 0644), 0);
    EXPECT_TRUE(fails(ukfs_util_builddirs(fs, "/x/y", 0755), ENOTDIR));
}

TEST_F(CApi, DirectoryCookies) {
    for (int i = 0; i < 100; ++i)
        ASSERT_EQ(ukfs_create(fs, ("/f" + std::to_string(i)).c_str(), 0644), 0);
    ukfs_dircookie* c = nullptr;
    ASSERT_EQ(ukfs_opendir(fs, "/", &c), 0);
    uint8_t buf[64];  // room for two records at most: forces many calls
    off_t off = 0;
    std::set<std::string> seen;
    int n;
    while ((n = ukfs_getdents_cookie(fs, c, &off, buf, sizeof buf)) > 0)
        for (int pos = 0; pos < n; pos += reinterpret_cast<ukfs_dirent*>(buf + pos)->d_reclen)
            seen.insert(reinterpret_cast<ukfs_dirent*>(buf + pos)->d_name);
    EXPECT_EQ(n, 0);
    EXPECT_EQ(seen.size(), 102u);
    off = 0;
    EXPECT_TRUE(fails(ukfs_getdents_cookie(fs, c, &off, buf, 8), EINVAL));  // nothing fits
    EXPECT_EQ(ukfs_closedir(fs, c), 0);
    EXPECT_TRUE(fails(ukfs_opendir(fs, "/f1", &c), ENOTDIR));
    off = 0;
    EXPECT_TRUE(fails(ukfs_getdents(fs, "/nope", &off, buf, sizeof buf), ENOENT));
}

TEST_F(CApi, ReadOnlyMountRefusesChanges) {
    struct ukfs* ro = ukfs_mount(MOUNT_TMPFS, "tmpfs", UKFS_DEFAULTMP, MNT_RDONLY, nullptr, 0);
    ASSERT_NE(ro, nullptr);
    EXPECT_TRUE(fails(ukfs_mkdir(ro, "/d", 0755), EROFS));
    EXPECT_TRUE(fails(ukfs_create(ro, "/f", 0644), EROFS));
    EXPECT_TRUE(fails(ukfs_open(ro, "/f", O_RDWR | O_CREAT), EROFS));
    EXPECT_TRUE(fails(ukfs_chmod(ro, "/", 0700), EROFS));
    EXPECT_TRUE(fails(ukfs_symlink(ro, "a", "/b"), EROFS));
    struct stat st;
    EXPECT_EQ(ukfs_stat(ro, "/", &st), 0);
    EXPECT_EQ(ukfs_release(ro, 0), 0);
}

TEST_F(CApi, TmpfsSizeLimit) {
    tmpfs_args args{};
    args.ta_version = TMPFS_ARGS_VERSION;
    args.ta_size_max = 64 * 1024;
    args.ta_root_mode = 0700;
    struct ukfs* small = ukfs_mount(MOUNT_TMPFS, "tmpfs", UKFS_DEFAULTMP, 0, &args, sizeof args);
    ASSERT_NE(small, nullptr) << strerror(errno);
    struct stat st;
    ASSERT_EQ(ukfs_stat(small, "/", &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_EQ(ukfs_create(small, "/big", 0644), 0);
    std::string block(128 * 1024, 'x');
    auto* bytes = reinterpret_cast<uint8_t*>(block.data());
    ssize_t n = ukfs_write(small, "/big", 0, bytes, block.size());  // what fits: a short write
    EXPECT_GT(n, 0);
    EXPECT_LE(n, 64 * 1024);
    EXPECT_TRUE(fails(ukfs_write(small, "/big", n, bytes, block.size()), ENOSPC));
    EXPECT_EQ(ukfs_release(small, 0), 0);
}

TEST_F(CApi, ModulesAndTypes) {
    char buf[128];
    ssize_t n = ukfs_vfstypes(buf, sizeof buf);
    ASSERT_GT(n, 0);
    EXPECT_EQ(buf[n - 1], '\0');
    EXPECT_NE(std::string(buf).find("tmpfs"), std::string::npos);
    EXPECT_TRUE(fails(ukfs_vfstypes(buf, 2), ENOMEM));
    EXPECT_TRUE(fails(ukfs_modload("/nonexistent/libukfs_fs_x.so"), ENOENT));
    EXPECT_TRUE(fails(ukfs_modload_dir("/nonexistent"), ENOENT));
}

TEST_F(CApi, ReleaseRules) {
    int fd = ukfs_open(fs, "/", O_RDONLY);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(fails(ukfs_release(fs, 0), EBUSY));
    EXPECT_EQ(ukfs_close(fs, fd), 0);
    EXPECT_EQ(ukfs_release(fs, 0), 0);
    fs = nullptr;
    struct ukfs* other = ukfs_mount(MOUNT_TMPFS, "tmpfs", UKFS_DEFAULTMP, 0, nullptr, 0);
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(ukfs_release(other, UKFS_RELFLAG_NOUNMOUNT), 0);
}
