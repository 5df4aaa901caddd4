// FFS through the C API, as a NetBSD libukfs client uses it: ukfs_mount with a struct ufs_args
// (and its length checked as NetBSD's ffs_mount checks it), ukfs_chflags and ukfs_lchflags
// with their EPERM rules, ukfs_mknod of a socket, and MOUNT_MFS with a struct mfs_args whose
// size makes the file system. What the C calls wrote is judged after ukfs_release by our
// checker, the raw inodes and the C++ API.
#include <rump/ukfs.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <map>

#include <ukfs/ukfs.hpp>

#include "api/handle.hpp"
#include "rw_support.hpp"

namespace uk::ffs::test {
namespace {

// -1 and this errno.
::testing::AssertionResult fails(long rv, int want) {
    if (rv == -1 && errno == want)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "returned " << rv << " errno " << errno << " (" << std::strerror(errno)
           << "), wanted -1 and " << std::strerror(want);
}

// Releases `fs` (and forgets it) when it goes out of scope, should a failed assertion leave it
// mounted.
struct Guard {
    struct ukfs*& fs;
    ~Guard() {
        if (fs != nullptr)
            (void)ukfs_release(fs, UKFS_RELFLAG_FORCE);
    }
};

// ukfs_release's result; `fs` is forgotten when it succeeded.
int release(struct ukfs*& fs) {
    const int rc = ukfs_release(fs, 0);
    if (rc == 0)
        fs = nullptr;
    return rc;
}

// A mount that should fail: nullptr, or the mount released.
::testing::AssertionResult refused(struct ukfs* fs, int want) {
    const int err = errno;
    if (fs != nullptr) {
        (void)ukfs_release(fs, UKFS_RELFLAG_FORCE);
        return ::testing::AssertionFailure() << "mounted";
    }
    if (err != want)
        return ::testing::AssertionFailure() << "errno " << std::strerror(err);
    return ::testing::AssertionSuccess();
}

class FfsCApi : public RwImageTest {
protected:
    void SetUp() override {
        ASSERT_EQ(ukfs_init(), 0);
        RwImageTest::SetUp();
    }
    struct ukfs* mount(int flags = 0) {
        char fspec[] = "/dev/ukfs";
        ufs_args args{fspec};
        struct ukfs* fs =
            ukfs_mount(MOUNT_FFS, m_img.c_str(), UKFS_DEFAULTMP, flags, &args, sizeof args);
        EXPECT_NE(fs, nullptr) << std::strerror(errno) << ": " << ukfs_errmsg();
        return fs;
    }
    std::uint64_t ino(struct ukfs* fs, const char* path) {
        struct stat st {};
        EXPECT_EQ(ukfs_lstat(fs, path, &st), 0) << path;
        return st.st_ino;
    }
};

// ukfs_chflags and ukfs_lchflags set NetBSD's bits (the raw di_flags and the C++ API's
// flags() read them back after release), and the C calls obey them as NetBSD's libukfs does:
// an immutable file refuses ukfs_write, ukfs_remove, ukfs_rename, ukfs_link, ukfs_chmod,
// ukfs_chown and ukfs_utimes; an append-only file refuses ukfs_write (which opens O_WRONLY)
// and ukfs_remove but takes an O_APPEND descriptor's writes.
TEST_P(FfsCApi, ChflagsAndLchflags) {
    struct ukfs* fs = mount();
    Guard guard{fs};
    ASSERT_NE(fs, nullptr);
    uint8_t data[10] = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9'};
    ASSERT_EQ(ukfs_create(fs, "/f", 0644), 0);
    ASSERT_EQ(ukfs_write(fs, "/f", 0, data, 10), 10);
    ASSERT_EQ(ukfs_symlink(fs, "f", "/l"), 0);
    ASSERT_EQ(ukfs_mkdir(fs, "/d", 0755), 0);
    ASSERT_EQ(ukfs_create(fs, "/i", 0644), 0);
    ASSERT_EQ(ukfs_write(fs, "/i", 0, data, 10), 10);
    ASSERT_EQ(ukfs_create(fs, "/a", 0644), 0);
    ASSERT_EQ(ukfs_write(fs, "/a", 0, data, 10), 10);
    ASSERT_EQ(ukfs_create(fs, "/other", 0644), 0);

    EXPECT_EQ(ukfs_chflags(fs, "/f", UF_NODUMP | SF_ARCHIVED), 0);
    EXPECT_EQ(ukfs_lchflags(fs, "/l", UF_NODUMP | SF_APPEND), 0);  // the link, not /f
    EXPECT_EQ(ukfs_chflags(fs, "/d", UF_OPAQUE), 0);
    EXPECT_EQ(ukfs_chflags(fs, "/i", SF_IMMUTABLE | UF_NODUMP), 0);
    EXPECT_EQ(ukfs_chflags(fs, "/a", UF_APPEND), 0);
    EXPECT_TRUE(fails(ukfs_chflags(fs, "/f", 0x80000000ul), EOPNOTSUPP));
    EXPECT_TRUE(fails(ukfs_chflags(fs, "/nope", UF_NODUMP), ENOENT));

    // Immutable.
    timeval tv[2] = {{100, 0}, {200, 0}};
    EXPECT_TRUE(fails(ukfs_write(fs, "/i", 0, data, 1), EPERM));
    EXPECT_TRUE(fails(ukfs_write(fs, "/i", 10, data, 1), EPERM));
    EXPECT_TRUE(fails(ukfs_open(fs, "/i", O_WRONLY | O_APPEND), EPERM));
    EXPECT_TRUE(fails(ukfs_remove(fs, "/i"), EPERM));
    EXPECT_TRUE(fails(ukfs_rename(fs, "/i", "/i2"), EPERM));
    EXPECT_TRUE(fails(ukfs_rename(fs, "/other", "/i"), EPERM));
    EXPECT_TRUE(fails(ukfs_link(fs, "/i", "/i3"), EPERM));
    EXPECT_TRUE(fails(ukfs_chmod(fs, "/i", 0600), EPERM));
    EXPECT_TRUE(fails(ukfs_chown(fs, "/i", 1, 2), EPERM));
    EXPECT_TRUE(fails(ukfs_utimes(fs, "/i", tv), EPERM));
    uint8_t buf[32];
    EXPECT_EQ(ukfs_read(fs, "/i", 0, buf, sizeof buf), 10);

    // Append-only: ukfs_write opens O_WRONLY, which NetBSD's ufs_open refuses.
    EXPECT_TRUE(fails(ukfs_write(fs, "/a", 0, data, 1), EPERM));
    EXPECT_TRUE(fails(ukfs_write(fs, "/a", 10, data, 1), EPERM));
    EXPECT_TRUE(fails(ukfs_open(fs, "/a", O_WRONLY), EPERM));
    EXPECT_TRUE(fails(ukfs_open(fs, "/a", O_WRONLY | O_APPEND | O_TRUNC), EPERM));
    const int fd = ukfs_open(fs, "/a", O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    EXPECT_EQ(ukfs_write_fd(fs, fd, 0, data, 5, 1), 5);  // O_APPEND: at the end
    EXPECT_EQ(ukfs_close(fs, fd), 0);
    EXPECT_TRUE(fails(ukfs_remove(fs, "/a"), EPERM));
    EXPECT_TRUE(fails(ukfs_rename(fs, "/a", "/a2"), EPERM));
    EXPECT_TRUE(fails(ukfs_chmod(fs, "/a", 0600), EPERM));
    EXPECT_EQ(ukfs_read(fs, "/a", 0, buf, sizeof buf), 15);
    EXPECT_EQ(std::memcmp(buf + 10, data, 5), 0);

    struct stat st {};
    ASSERT_EQ(ukfs_stat(fs, "/i", &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(st.st_nlink, 1u);
    const std::map<std::string, std::uint32_t> want = {
        {"/f", UF_NODUMP | SF_ARCHIVED},
        {"/l", UF_NODUMP | SF_APPEND},
        {"/d", UF_OPAQUE},
        {"/i", SF_IMMUTABLE | UF_NODUMP},
        {"/a", UF_APPEND},
        {"/other", 0},
    };
    std::map<std::string, std::uint64_t> inos;
    for (const auto& [path, flags] : want)
        inos[path] = ino(fs, path.c_str());
    ASSERT_EQ(release(fs), 0);

    EXPECT_TRUE(checker_clean(m_img));
    {
        OnDisk disk(m_img);
        for (const auto& [path, flags] : want)
            EXPECT_EQ(disk.flags(inos[path]), flags) << path << ": di_flags";
    }
    uk::MountOptions o;
    o.type = "ffs";
    o.read_only = true;
    auto m = uk::Mount::open(m_img.string(), o);
    ASSERT_TRUE(m) << m.error().describe();
    for (const auto& [path, flags] : want) {
        auto got = m->flags(path, uk::Follow::no);
        ASSERT_TRUE(got) << path;
        EXPECT_EQ(*got, flags) << path;
    }
    EXPECT_EQ(*m->flags("/l", uk::Follow::yes), UF_NODUMP | SF_ARCHIVED);  // /f's
}

// ukfs_mknod makes a socket (S_IFSOCK) and a FIFO; both read back as such after a remount, and
// our checker agrees with their directory entries' types.
TEST_P(FfsCApi, MknodSocket) {
    struct ukfs* fs = mount();
    Guard guard{fs};
    ASSERT_NE(fs, nullptr);
    EXPECT_EQ(ukfs_mknod(fs, "/sock", S_IFSOCK | 0751, 0), 0);
    EXPECT_EQ(ukfs_mkfifo(fs, "/fifo", 0640), 0);
    struct stat st {};
    ASSERT_EQ(ukfs_stat(fs, "/sock", &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
    uint8_t buf[4];
    EXPECT_TRUE(fails(ukfs_read(fs, "/sock", 0, buf, sizeof buf), ENXIO));
    ASSERT_EQ(release(fs), 0);
    EXPECT_TRUE(checker_clean(m_img));
    fs = mount(MNT_RDONLY);
    ASSERT_NE(fs, nullptr);
    ASSERT_EQ(ukfs_lstat(fs, "/sock", &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
    EXPECT_EQ(st.st_mode & 07777, 0751u);
    EXPECT_EQ(st.st_size, 0);
    ASSERT_EQ(ukfs_lstat(fs, "/fifo", &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << std::oct << st.st_mode;
    off_t off = 0;
    uint8_t dents[4096];
    const int n = ukfs_getdents(fs, "/", &off, dents, sizeof dents);
    ASSERT_GT(n, 0);
    bool seen = false;
    for (int pos = 0; pos < n;) {
        ukfs_dirent d;
        std::memcpy(&d, dents + pos, UKFS_DIRENT_NAMEOFF);
        const std::string name(reinterpret_cast<const char*>(dents + pos + UKFS_DIRENT_NAMEOFF),
                               d.d_namlen);
        if (name == "sock") {
            seen = true;
            EXPECT_EQ(d.d_type, DT_SOCK);
        }
        if (d.d_reclen == 0)
            break;
        pos += d.d_reclen;
    }
    EXPECT_TRUE(seen);
    EXPECT_EQ(release(fs), 0);
}

INSTANTIATE_TEST_SUITE_P(Images, FfsCApi, ::testing::ValuesIn(rw_images), rw_image_name);

// ukfs_mount(MOUNT_FFS, ...) with a struct ufs_args of its full length mounts, read-write or
// with MNT_RDONLY; a shorter length, or none with a pointer, is EINVAL as NetBSD's ffs_mount
// says, and leaves the image as it was; no arguments at all mount with the defaults.
TEST(FfsCApiMount, UfsArgs) {
    ASSERT_EQ(ukfs_init(), 0);
    TempDir work;
    const fs::path img = work.path() / "img";
    make_rw_image({"ufs2_le_newfs", false, 2, std::endian::little}, img, 8);
    char fspec[] = "/dev/ukfs";
    ufs_args args{fspec};

    const std::string before = file_digest(img);
    for (const size_t len : {size_t{0}, size_t{1}, sizeof args - 1}) {
        errno = 0;
        EXPECT_TRUE(
            refused(ukfs_mount(MOUNT_FFS, img.c_str(), UKFS_DEFAULTMP, 0, &args, len), EINVAL))
            << len;
        EXPECT_NE(std::string(ukfs_errmsg()).find("ufs_args"), std::string::npos) << ukfs_errmsg();
    }
    EXPECT_EQ(file_digest(img), before);

    struct ukfs* fs = ukfs_mount(MOUNT_FFS, img.c_str(), UKFS_DEFAULTMP, 0, &args, sizeof args);
    Guard guard{fs};
    ASSERT_NE(fs, nullptr) << ukfs_errmsg();
    EXPECT_EQ(ukfs_mkdir(fs, "/made", 0755), 0);
    ASSERT_EQ(release(fs), 0);

    fs = ukfs_mount(MOUNT_FFS, img.c_str(), UKFS_DEFAULTMP, MNT_RDONLY, &args, sizeof args);
    ASSERT_NE(fs, nullptr) << ukfs_errmsg();
    struct stat st {};
    EXPECT_EQ(ukfs_stat(fs, "/made", &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_TRUE(fails(ukfs_mkdir(fs, "/more", 0755), EROFS));
    ASSERT_EQ(release(fs), 0);

    fs = ukfs_mount(MOUNT_FFS, img.c_str(), UKFS_DEFAULTMP, MNT_RDONLY, nullptr, 0);
    ASSERT_NE(fs, nullptr) << ukfs_errmsg();
    EXPECT_EQ(ukfs_stat(fs, "/made", &st), 0);
    ASSERT_EQ(release(fs), 0);
    EXPECT_TRUE(checker_clean(img));
}

// ukfs_mount(MOUNT_MFS, ...) with a struct mfs_args makes a new FFS in memory of mfs_args'
// size: statfs shows newfs' layout for that size (UFS1, as NetBSD's mount_mfs), and it takes
// writes. A shorter length is EINVAL.
TEST(FfsCApiMount, MfsArgs) {
    ASSERT_EQ(ukfs_init(), 0);
    char fspec[] = "mfs";
    for (const unsigned long size : {12ul << 20, 20ul << 20}) {
        SCOPED_TRACE(size);
        mfs_args args{};
        args.fspec = fspec;
        args.size = size;
        struct ukfs* fs = ukfs_mount(MOUNT_MFS, "mfs", UKFS_DEFAULTMP, 0, &args, sizeof args);
        Guard guard{fs};
        ASSERT_NE(fs, nullptr) << ukfs_errmsg();
        NewfsOptions o;
        o.version = 1;
        auto layout = newfs_layout(o, size);
        ASSERT_TRUE(layout);
        auto s = fs->mount->statfs();
        ASSERT_TRUE(s) << s.error().describe();
        EXPECT_EQ(s->bsize, layout->fsize);
        EXPECT_EQ(s->blocks, layout->dsize);
        EXPECT_LE(s->blocks * s->bsize, size);
        EXPECT_GT(s->blocks * s->bsize, size * 4 / 5);
        EXPECT_EQ(s->files, std::uint64_t{layout->ncg} * layout->ipg - 2);

        ASSERT_EQ(ukfs_mkdir(fs, "/d", 0755), 0);
        ASSERT_EQ(ukfs_create(fs, "/d/f", 0644), 0);
        std::vector<uint8_t> data(300000);
        for (std::size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(i * 13);
        EXPECT_EQ(ukfs_write(fs, "/d/f", 0, data.data(), data.size()),
                  static_cast<ssize_t>(data.size()));
        std::vector<uint8_t> back(data.size() + 10);
        EXPECT_EQ(ukfs_read(fs, "/d/f", 0, back.data(), back.size()),
                  static_cast<ssize_t>(data.size()));
        back.resize(data.size());
        EXPECT_EQ(back, data);
        auto after = fs->mount->statfs();
        ASSERT_TRUE(after);
        EXPECT_LE(after->bfree + data.size() / s->bsize, s->bfree);
        ASSERT_EQ(release(fs), 0);
    }
    mfs_args args{};
    args.fspec = fspec;
    args.size = 8ul << 20;
    for (const size_t len : {size_t{0}, sizeof args - 1}) {
        errno = 0;
        EXPECT_TRUE(refused(ukfs_mount(MOUNT_MFS, "mfs", UKFS_DEFAULTMP, 0, &args, len), EINVAL))
            << len;
    }
}

}  // namespace
}  // namespace uk::ffs::test
