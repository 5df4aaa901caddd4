// The model-based write tests' shared half: one operation applied both to an image, through
// the VFS, and to a host directory (the model), asserting that both succeed. The drivers'
// suites compare the two trees afterwards (host_tree.hpp's compare_tree).
#pragma once

#include <cstdint>
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

// One operation, applied to both the image and the model.
class Both {
public:
    Both(vfs::Mount& m, std::filesystem::path model) : m_m(m), m_model(std::move(model)) {}

    std::string host(const std::string& p) const { return (m_model / p.substr(1)).string(); }

    void mkdir(const std::string& p, std::uint32_t mode = 0755) {
        expect(m_m.mkdir(p, mode), "mkdir " + p);
        ASSERT_EQ(::mkdir(host(p).c_str(), mode), 0) << p;
    }
    void write(const std::string& p, std::uint64_t off, const std::vector<std::byte>& data) {
        auto fd = m_m.open(p, O_WRONLY | O_CREAT, 0644);
        ASSERT_TRUE(fd) << p << ": " << fd.error().describe();
        auto n = m_m.write_fd(*fd, off, data, false);
        ASSERT_TRUE(n) << p << ": " << n.error().describe();
        ASSERT_EQ(*n, data.size());
        ASSERT_TRUE(m_m.close(*fd));
        const int hfd = ::open(host(p).c_str(), O_WRONLY | O_CREAT, 0644);
        ASSERT_GE(hfd, 0);
        ASSERT_EQ(::pwrite(hfd, data.data(), data.size(), static_cast<off_t>(off)),
                  static_cast<ssize_t>(data.size()));
        ::close(hfd);
    }
    void truncate(const std::string& p, std::uint64_t size) {
        expect(m_m.truncate(p, size), "truncate " + p);
        ASSERT_EQ(::truncate(host(p).c_str(), static_cast<off_t>(size)), 0);
    }
    void symlink(const std::string& target, const std::string& p) {
        expect(m_m.symlink(target, p), "symlink " + p);
        ASSERT_EQ(::symlink(target.c_str(), host(p).c_str()), 0);
    }
    void link(const std::string& from, const std::string& p) {
        expect(m_m.link(from, p), "link " + p);
        ASSERT_EQ(::link(host(from).c_str(), host(p).c_str()), 0);
    }
    void mknod(const std::string& p, std::uint32_t mode, dev_t rdev) {
        expect(m_m.mknod(p, mode, rdev), "mknod " + p);
        ASSERT_EQ(::mknod(host(p).c_str(), mode, rdev), 0);
    }
    void rename(const std::string& a, const std::string& b) {
        expect(m_m.rename(a, b), "rename " + a + " " + b);
        ASSERT_EQ(::rename(host(a).c_str(), host(b).c_str()), 0);
    }
    void remove(const std::string& p) {
        expect(m_m.remove(p), "remove " + p);
        ASSERT_EQ(::unlink(host(p).c_str()), 0);
    }
    void rmdir(const std::string& p) {
        expect(m_m.rmdir(p), "rmdir " + p);
        ASSERT_EQ(::rmdir(host(p).c_str()), 0);
    }
    void chmod(const std::string& p, std::uint32_t mode) {
        expect(m_m.chmod(p, mode, vfs::Follow::no), "chmod " + p);
        ASSERT_EQ(::chmod(host(p).c_str(), mode), 0);
    }
    void chown(const std::string& p, std::uint32_t uid, std::uint32_t gid) {
        expect(m_m.chown(p, uid, gid, vfs::Follow::no), "chown " + p);
        ASSERT_EQ(::lchown(host(p).c_str(), uid, gid), 0);
    }
    void utimes(const std::string& p, timespec t) {
        expect(m_m.utimes(p, t, t, vfs::Follow::no), "utimes " + p);
        const timespec ts[2] = {t, t};
        ASSERT_EQ(::utimensat(AT_FDCWD, host(p).c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
    }

private:
    static void expect(const Result<void>& r, const std::string& what) {
        ASSERT_TRUE(r) << what << ": " << r.error().describe();
    }
    vfs::Mount& m_m;
    std::filesystem::path m_model;
};

}  // namespace uk::test
