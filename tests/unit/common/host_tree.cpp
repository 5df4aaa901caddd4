// Shared test support (see host_tree.hpp).
#include "common/host_tree.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/sysmacros.h>

#include "base/crc32c.hpp"

namespace uk::test {

namespace {

constexpr std::time_t base_time = 1'600'000'000;

void set_mtime(const fs::path& p, int index) {
    timespec times[2];
    times[0] = {base_time + index, 500};                      // atime
    times[1] = {base_time + 1000 + index, index * 1000 + 7};  // mtime
    utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

std::string host_readlink(const fs::path& p) {
    std::string buf(8192, '\0');
    const ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
    buf.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    return buf;
}

// Every entry of `path`, read `batch` at a time, each batch resumed at the last cookie.
std::map<std::string, vfs::DirEntry> list_dir(vfs::Mount& m, const std::string& path,
                                              std::size_t batch) {
    std::map<std::string, vfs::DirEntry> out;
    std::vector<std::string> names;  // keeps the name bytes alive
    std::uint64_t cookie = 0;
    for (;;) {
        std::size_t got = 0;
        std::uint64_t next = cookie;
        auto r = m.readdir(path, cookie, [&](const vfs::DirEntry& e, std::uint64_t n) {
            EXPECT_FALSE(out.count(std::string(e.name))) << path << ": duplicate " << e.name;
            out.emplace(std::string(e.name), vfs::DirEntry{e.ino, e.type, {}});
            next = n;
            return ++got < batch;
        });
        EXPECT_TRUE(r) << path << ": " << r.error().describe();
        if (!r || got < batch)
            return out;
        cookie = next;
    }
}

}  // namespace

void compare_node(vfs::Mount& m, const fs::path& host, const std::string& path, bool nsec) {
    struct stat st {};
    ASSERT_EQ(::lstat(host.c_str(), &st), 0);
    auto a = m.stat(path, vfs::Follow::no);
    ASSERT_TRUE(a) << path << ": " << a.error().describe();
    EXPECT_EQ(vfs::vtype_to_ifmt(a->type), st.st_mode & S_IFMT) << path;
    EXPECT_EQ(a->mode, st.st_mode & 07777) << path;
    EXPECT_EQ(a->uid, st.st_uid) << path;
    EXPECT_EQ(a->gid, st.st_gid) << path;
    EXPECT_EQ(a->nlink, st.st_nlink) << path;
    EXPECT_EQ(a->mtime.tv_sec, st.st_mtim.tv_sec) << path;
    if (nsec) {
        EXPECT_EQ(a->mtime.tv_nsec, st.st_mtim.tv_nsec) << path;
    }
    if (!S_ISDIR(st.st_mode)) {
        EXPECT_EQ(a->size, static_cast<std::uint64_t>(st.st_size)) << path;
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        EXPECT_EQ(a->rdev, st.st_rdev) << path;
    }
    if (S_ISLNK(st.st_mode)) {
        auto t = m.readlink(path);
        ASSERT_TRUE(t) << path << ": " << t.error().describe();
        EXPECT_EQ(*t, host_readlink(host)) << path;
    }
    if (S_ISREG(st.st_mode)) {
        // In pieces, so that big files cost no big buffers; then nothing past the end.
        const int fd = ::open(host.c_str(), O_RDONLY);
        ASSERT_GE(fd, 0) << host;
        static thread_local std::vector<std::byte> got(std::size_t{1} << 18), want(got.size());
        const auto size = static_cast<std::uint64_t>(st.st_size);
        for (std::uint64_t off = 0;; off += got.size()) {
            const std::size_t len = static_cast<std::size_t>(
                std::min<std::uint64_t>(got.size(), size > off ? size - off : 0));
            auto n = m.read(path, off, std::span(got).first(len == 0 ? 100 : len));
            if (!n) {
                ADD_FAILURE() << path << ": " << n.error().describe();
                break;
            }
            if (len == 0) {
                EXPECT_EQ(*n, 0u) << path << ": bytes past the end";
                break;
            }
            const ssize_t h = ::pread(fd, want.data(), len, static_cast<off_t>(off));
            if (*n != len || h != static_cast<ssize_t>(len) ||
                !std::equal(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(len),
                            want.begin())) {
                ADD_FAILURE() << path << ": contents differ in the " << len << " bytes at " << off;
                break;
            }
        }
        ::close(fd);
    }
}

void compare_listing(vfs::Mount& m, const fs::path& host, const std::string& path,
                     const std::set<std::string>& root_extra) {
    std::set<std::string> want{".", ".."};
    for (const auto& e : fs::directory_iterator(host))
        want.insert(e.path().filename().string());
    if (path == "/")
        want.insert(root_extra.begin(), root_extra.end());
    const auto got = list_dir(m, path, 7);
    std::set<std::string> names;
    for (const auto& [name, e] : got) {
        names.insert(name);
        if (name != "." && name != "..") {
            auto a = m.stat((path == "/" ? "" : path) + "/" + name, vfs::Follow::no);
            if (a) {
                EXPECT_EQ(e.ino, a->ino) << path << "/" << name;
                EXPECT_EQ(e.type, a->type) << path << "/" << name;
            }
        }
    }
    EXPECT_EQ(names, want) << path;
}

bool is_real_dir(const fs::path& p) {
    return fs::symlink_status(p).type() == fs::file_type::directory;
}

std::vector<fs::path> walk_host(const fs::path& root) {
    std::vector<fs::path> out;
    std::vector<fs::path> todo{root};
    while (!todo.empty()) {
        const fs::path dir = todo.back();
        todo.pop_back();
        for (const auto& e : fs::directory_iterator(dir)) {
            out.push_back(e.path());
            if (is_real_dir(e.path()))
                todo.push_back(e.path());
        }
    }
    return out;
}

void stamp_times(const fs::path& root) {
    std::vector<fs::path> all = walk_host(root);
    std::sort(all.begin(), all.end(), [](const fs::path& a, const fs::path& b) {
        return std::distance(a.begin(), a.end()) > std::distance(b.begin(), b.end());
    });
    int i = 0;
    for (const fs::path& p : all)
        set_mtime(p, i++);
}

void make_special_nodes(const fs::path& root) {
    ::mkfifo((root / "fifo").c_str(), 0640);
    write_host_file(root / "setuid", pattern(5, 99));
    ::chmod((root / "setuid").c_str(), 04755);
    write_host_file(root / "setgid", pattern(6, 98));
    ::chmod((root / "setgid").c_str(), 02711);
    write_host_file(root / "nomode", {});
    ::chmod((root / "nomode").c_str(), 0);
    fs::create_directory(root / "sticky");
    ::chmod((root / "sticky").c_str(), 01777);
    if (geteuid() != 0)
        return;
    ::mknod((root / "chr").c_str(), S_IFCHR | 0620, makedev(1, 3));
    ::mknod((root / "blk").c_str(), S_IFBLK | 0660, makedev(8, 1));
    ::mknod((root / "bigdev").c_str(), S_IFCHR | 0600, makedev(300, 70000));
    write_host_file(root / "owned", pattern(3, 97));
    ::chown((root / "owned").c_str(), 1000, 1000);
    write_host_file(root / "bigowner", pattern(4, 96));
    ::chown((root / "bigowner").c_str(), 123456, 654321);
    ::lchown((root / "fast_link").c_str(), 4242, 4343);
}

std::size_t compare_tree(vfs::Mount& m, const fs::path& src, bool nsec,
                         const std::set<std::string>& root_extra) {
    std::size_t count = 0;
    compare_listing(m, src, "/", root_extra);
    for (const fs::path& p : walk_host(src)) {
        const std::string path = "/" + p.lexically_relative(src).string();
        compare_node(m, p, path, nsec);
        if (is_real_dir(p))
            compare_listing(m, p, path, root_extra);
        ++count;
    }
    return count;
}

std::string file_digest(const fs::path& p) {
    const auto bytes = read_host_file(p);
    return fmt::format("{}:{:08x}", bytes.size(), crc32c(bytes));
}

}  // namespace uk::test
