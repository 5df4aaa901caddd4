// The model-based write tests' shared half: one operation applied both to an image, through
// the VFS, and to a host directory (the model). The plain forms assert that both succeed; the
// try_ forms let the host decide: both must succeed, or both must be refused with the same
// errno, which they return (0 for success). The drivers' suites compare the two trees
// afterwards (host_tree.hpp's compare_tree).
//
// The model is the host directory with the VFS's BSD rules laid over what Linux does (vfs/ops.cpp,
// NetBSD's ufs): a new node takes its directory's group and exactly the mode asked for (no
// umask, no set-group-id inherited from the directory), and root's chown keeps the set-id bits.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "vfs/mount.hpp"

namespace uk::test {

// The errno a result ended with: 0 for success.
template <class T>
int errno_of(const Result<T>& r) {
    return r ? 0 : r.error().errnum();
}

// One operation, applied to both the image and the model.
class Both {
public:
    Both(vfs::Mount& m, std::filesystem::path model) : m_m(m), m_model(std::move(model)) {}

    std::string host(const std::string& p) const { return (m_model / p.substr(1)).string(); }

    // Both succeed, or both fail with the same errno: the test fails otherwise.
    void mkdir(const std::string& p, std::uint32_t mode = 0755) {
        ASSERT_EQ(try_mkdir(p, mode), 0) << "mkdir " << p;
    }
    // Write `data` at `off`, creating the file (mode 0644) when it is missing.
    void write(const std::string& p, std::uint64_t off, const std::vector<std::byte>& data) {
        ASSERT_EQ(try_write(p, off, data), 0) << "write " << p;
    }
    void truncate(const std::string& p, std::uint64_t size) {
        ASSERT_EQ(try_truncate(p, size), 0) << "truncate " << p;
    }
    void symlink(const std::string& target, const std::string& p) {
        ASSERT_EQ(try_symlink(target, p), 0) << "symlink " << p;
    }
    void link(const std::string& from, const std::string& p) {
        ASSERT_EQ(try_link(from, p), 0) << "link " << from << " " << p;
    }
    void mknod(const std::string& p, std::uint32_t mode, dev_t rdev) {
        ASSERT_EQ(try_mknod(p, mode, rdev), 0) << "mknod " << p;
    }
    void rename(const std::string& a, const std::string& b) {
        ASSERT_EQ(try_rename(a, b), 0) << "rename " << a << " " << b;
    }
    void remove(const std::string& p) { ASSERT_EQ(try_remove(p), 0) << "remove " << p; }
    void rmdir(const std::string& p) { ASSERT_EQ(try_rmdir(p), 0) << "rmdir " << p; }
    void chmod(const std::string& p, std::uint32_t mode) {
        ASSERT_EQ(try_chmod(p, mode), 0) << "chmod " << p;
    }
    void chown(const std::string& p, std::uint32_t uid, std::uint32_t gid) {
        ASSERT_EQ(try_chown(p, uid, gid), 0) << "chown " << p;
    }
    void utimes(const std::string& p, timespec t) {
        ASSERT_EQ(try_utimes(p, t), 0) << "utimes " << p;
    }

    int try_mkdir(const std::string& p, std::uint32_t mode) {
        const int ours = errno_of(m_m.mkdir(p, mode));
        const int err = agree("mkdir " + p, ours, host_err(::mkdir(host(p).c_str(), mode)));
        if (err == 0)
            as_bsd_makes_it(p, mode);
        return err;
    }
    // open(O_CREAT | O_EXCL) and close: a new empty regular file.
    int try_create(const std::string& p, std::uint32_t mode) {
        auto fd = m_m.open(p, O_RDWR | O_CREAT | O_EXCL, mode);
        const int ours = errno_of(fd);
        if (fd)
            (void)m_m.close(*fd);
        const int hfd = ::open(host(p).c_str(), O_RDWR | O_CREAT | O_EXCL, mode);
        const int err = agree("create " + p, ours, host_err(hfd));
        if (hfd >= 0)
            ::close(hfd);
        if (err == 0)
            as_bsd_makes_it(p, mode);
        return err;
    }
    int try_write(const std::string& p, std::uint64_t off, const std::vector<std::byte>& data) {
        struct stat st {};
        const bool is_new = ::lstat(host(p).c_str(), &st) != 0;
        int ours = 0;
        auto fd = m_m.open(p, O_WRONLY | O_CREAT, 0644);
        if (!fd) {
            ours = fd.error().errnum();
        } else {
            auto n = m_m.write_fd(*fd, off, data, false);
            ours = errno_of(n);
            if (n) {
                EXPECT_EQ(*n, data.size()) << "write " << p << ": a short write";
            }
            auto c = m_m.close(*fd);
            EXPECT_TRUE(c) << "close " << p << ": " << c.error().describe();
        }
        const int hfd = ::open(host(p).c_str(), O_WRONLY | O_CREAT, 0644);
        int theirs = host_err(hfd);
        if (hfd >= 0) {
            const ssize_t n = ::pwrite(hfd, data.data(), data.size(), static_cast<off_t>(off));
            theirs = host_err(n < 0 ? -1 : 0);
            ::close(hfd);
            EXPECT_TRUE(n < 0 || static_cast<std::size_t>(n) == data.size()) << p;
        }
        const int err = agree("write " + p, ours, theirs);
        if (hfd >= 0 && is_new)
            as_bsd_makes_it(p, 0644);
        return err;
    }
    int try_truncate(const std::string& p, std::uint64_t size) {
        const int ours = errno_of(m_m.truncate(p, size));
        return agree("truncate " + p, ours,
                     host_err(::truncate(host(p).c_str(), static_cast<off_t>(size))));
    }
    int try_symlink(const std::string& target, const std::string& p) {
        const int ours = errno_of(m_m.symlink(target, p));
        const int err =
            agree("symlink " + p, ours, host_err(::symlink(target.c_str(), host(p).c_str())));
        if (err == 0)
            as_bsd_makes_it(p, 0);
        return err;
    }
    int try_link(const std::string& from, const std::string& p) {
        const int ours = errno_of(m_m.link(from, p));
        return agree(
            "link " + from + " " + p, ours,
            host_err(::linkat(AT_FDCWD, host(from).c_str(), AT_FDCWD, host(p).c_str(), 0)));
    }
    int try_mknod(const std::string& p, std::uint32_t mode, dev_t rdev) {
        const int ours = errno_of(m_m.mknod(p, mode, rdev));
        const int err = agree("mknod " + p, ours, host_err(::mknod(host(p).c_str(), mode, rdev)));
        if (err == 0)
            as_bsd_makes_it(p, mode);
        return err;
    }
    int try_rename(const std::string& a, const std::string& b) {
        const int ours = errno_of(m_m.rename(a, b));
        return agree("rename " + a + " " + b, ours,
                     host_err(::rename(host(a).c_str(), host(b).c_str())));
    }
    int try_remove(const std::string& p) {
        const int ours = errno_of(m_m.remove(p));
        return agree("remove " + p, ours, host_err(::unlink(host(p).c_str())));
    }
    int try_rmdir(const std::string& p) {
        const int ours = errno_of(m_m.rmdir(p));
        return agree("rmdir " + p, ours, host_err(::rmdir(host(p).c_str())));
    }
    // Not on a symlink: Linux cannot change a symlink's mode.
    int try_chmod(const std::string& p, std::uint32_t mode) {
        const int ours = errno_of(m_m.chmod(p, mode, vfs::Follow::no));
        return agree("chmod " + p, ours, host_err(::chmod(host(p).c_str(), mode)));
    }
    int try_chown(const std::string& p, std::uint32_t uid, std::uint32_t gid) {
        const int ours = errno_of(m_m.chown(p, uid, gid, vfs::Follow::no));
        struct stat before {};
        const bool had = ::lstat(host(p).c_str(), &before) == 0;
        const int err = agree("chown " + p, ours, host_err(::lchown(host(p).c_str(), uid, gid)));
        // Linux clears the set-id bits even for root; BSD (and the VFS) keep them for root.
        if (err == 0 && had && !S_ISLNK(before.st_mode)) {
            EXPECT_EQ(::chmod(host(p).c_str(), before.st_mode & 07777), 0) << p;
        }
        return err;
    }
    int try_utimes(const std::string& p, timespec t) {
        const int ours = errno_of(m_m.utimes(p, t, t, vfs::Follow::no));
        const timespec ts[2] = {t, t};
        return agree("utimes " + p, ours,
                     host_err(::utimensat(AT_FDCWD, host(p).c_str(), ts, AT_SYMLINK_NOFOLLOW)));
    }

private:
    // A host call's errno, read at once: 0 when it succeeded.
    static int host_err(int rc) { return rc < 0 ? errno : 0; }
    // Both sides' errnos must be the same. Returns the host's.
    static int agree(const std::string& what, int ours, int theirs) {
        EXPECT_EQ(ours, theirs) << what << ": ours " << (ours ? std::strerror(ours) : "succeeds")
                                << ", the host's " << (theirs ? std::strerror(theirs) : "succeeds");
        return theirs;
    }
    // What the VFS makes of a new node on the host: its directory's group and the exact mode.
    void as_bsd_makes_it(const std::string& p, std::uint32_t mode) {
        const std::string h = host(p);
        struct stat dir {
        }, st{};
        ASSERT_EQ(::stat(std::filesystem::path(h).parent_path().c_str(), &dir), 0) << p;
        ASSERT_EQ(::lstat(h.c_str(), &st), 0) << p;
        if (st.st_gid != dir.st_gid) {
            ASSERT_EQ(::lchown(h.c_str(), static_cast<uid_t>(-1), dir.st_gid), 0) << p;
        }
        if (!S_ISLNK(st.st_mode)) {
            ASSERT_EQ(::chmod(h.c_str(), mode & 07777), 0) << p;
        }
    }

    vfs::Mount& m_m;
    std::filesystem::path m_model;
};

}  // namespace uk::test
