// Test support (see support.hpp).
#include "support.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

namespace uk::cd9660::test {

bool is_root() {
    return ::geteuid() == 0;
}

namespace {

void set_mtime(const fs::path& p, time_t t) {
    timespec ts[2] = {{t, 0}, {t, 0}};
    ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

// Fixed mtimes on everything, deepest first (setting a child's changes nothing of its parent,
// but creating it did).
void fix_times(const fs::path& root) {
    std::vector<fs::path> all;
    for (auto& e : fs::recursive_directory_iterator(root))
        all.push_back(e.path());
    std::sort(all.begin(), all.end(), std::greater<>());
    time_t t = 1500000000;
    for (const auto& p : all)
        set_mtime(p, t += 3607);
    set_mtime(root, 1400000000);
}

}  // namespace

void build_full_tree(const fs::path& root) {
    fs::create_directories(root / "sub" / "inner");
    fs::create_directories(root / "many");
    write_file(root / "empty", {});
    write_file(root / "hello.txt", pattern(6, 1));
    write_file(root / "multi", pattern(10000, 2));
    write_file(root / "big", pattern(3 * 1024 * 1024 + 77, 3));
    write_file(root / "sub" / "inner" / "leaf.dat", pattern(2048, 4));
    for (int i = 0; i < 300; ++i)
        write_file(root / "many" / ("entry-" + std::to_string(i) + "-with-a-longer-name"),
                   pattern(static_cast<std::size_t>(i), static_cast<std::uint32_t>(i)));
    fs::path deep = root;
    for (int i = 1; i <= 12; ++i)
        deep /= "level" + std::to_string(i);
    fs::create_directories(deep);
    write_file(deep / "bottom.txt", pattern(100, 5));
    fs::create_symlink("hello.txt", root / "link_rel");
    fs::create_symlink("/sub/inner/leaf.dat", root / "link_abs");
    fs::create_symlink("../x/./y//z", root / "sub" / "link_dots");
    fs::create_symlink(std::string(150, 'a') + "/" + std::string(149, 'b'), root / "link_long");
    write_file(root / (std::string(200, 'n') + ".long"), pattern(10, 6));
    fs::create_hard_link(root / "hello.txt", root / "sub" / "hard");
    ::mkfifo((root / "fifo").c_str(), 0644);
    write_file(root / "secret", pattern(5, 7));
    fs::permissions(root / "secret", fs::perms(0640));
    write_file(root / "setuid", pattern(5, 8));
    ::chmod((root / "setuid").c_str(), 04755);
    ::chmod((root / "sub" / "inner").c_str(), 0700);
    if (is_root()) {
        ::mknod((root / "cdev").c_str(), S_IFCHR | 0600, makedev(1, 3));
        ::mknod((root / "bdev").c_str(), S_IFBLK | 0660, makedev(8, 17));
        ::lchown((root / "secret").c_str(), 1234, 5678);
        ::lchown((root / "sub").c_str(), 42, 43);
    }
    fix_times(root);
}

void build_joliet_tree(const fs::path& root) {
    fs::create_directories(root / "Mixed Case Dir" / "Inner.Dir");
    write_file(root / "ReadMe.TXT", pattern(100, 11));
    write_file(root / "Gr\xc3\xbc\xc3\x9f"
                      "e.txt",
               pattern(5000, 12));
    write_file(root / "a name with spaces and 45 characters total.x", pattern(3, 13));
    write_file(root / "Mixed Case Dir" / "Inner.Dir" / "data.bin", pattern(70000, 14));
    write_file(root / "Mixed Case Dir" / "no_ext", {});
    fs::path deep = root;
    for (int i = 1; i <= 6; ++i)
        deep /= "D" + std::to_string(i);
    fs::create_directories(deep);
    write_file(deep / "End", pattern(9, 15));
    fix_times(root);
}

void build_plain_tree(const fs::path& root) {
    fs::create_directories(root / "dir1" / "dir2");
    write_file(root / "readme.txt", pattern(123, 21));
    write_file(root / "data", pattern(40000, 22));
    write_file(root / "dir1" / "a.bin", pattern(2048, 23));
    write_file(root / "dir1" / "dir2" / "b", pattern(1, 24));
    fix_times(root);
}

MountOptions ro(const void* args, std::size_t len) {
    MountOptions o;
    o.type = "cd9660";
    o.read_only = true;
    o.args = args;
    o.args_len = len;
    o.cache_bytes = std::size_t{4} << 20;
    return o;
}

namespace {

std::string join(const std::string& dir, const std::string& name) {
    return (dir == "/" ? "" : dir) + "/" + name;
}

void compare_dir(const Mount& m, const fs::path& host, const std::string& path, const Expect& ex,
                 std::size_t& count, std::set<std::uint64_t>& inos) {
    std::map<std::string, fs::path> want;
    for (auto& e : fs::directory_iterator(host)) {
        const auto st = e.symlink_status().type();
        if (!ex.specials && st != fs::file_type::regular && st != fs::file_type::directory)
            continue;
        want[ex.name(e.path().filename().string())] = e.path();
    }
    auto list = m.list(path);
    ASSERT_TRUE(list) << path << ": " << list.error().describe();
    std::set<std::string> got;
    for (const DirEntry& d : *list) {
        if (d.name == "." || d.name == "..")
            continue;
        if (path == "/" &&
            std::find(ex.extra_root.begin(), ex.extra_root.end(), d.name) != ex.extra_root.end() &&
            want.count(d.name) == 0)
            continue;
        EXPECT_TRUE(got.insert(d.name).second) << path << ": " << d.name << " listed twice";
    }
    std::set<std::string> want_names;
    for (auto& [n, p] : want)
        want_names.insert(n);
    EXPECT_EQ(got, want_names) << "listing of " << path;

    for (auto& [name, hp] : want) {
        const std::string p = join(path, name);
        struct stat hs {};
        ASSERT_EQ(::lstat(hp.c_str(), &hs), 0);
        auto st = m.stat(p, Follow::no);
        ASSERT_TRUE(st) << p << ": " << st.error().describe();
        ++count;
        EXPECT_EQ(st->st_mode & S_IFMT, hs.st_mode & S_IFMT) << p;
        EXPECT_TRUE(inos.insert(static_cast<std::uint64_t>(st->st_ino)).second)
            << p << ": inode " << st->st_ino << " seen before";
        if (ex.modes) {
            EXPECT_EQ(st->st_mode & 07777, hs.st_mode & 07777) << p;
            EXPECT_EQ(st->st_uid, hs.st_uid) << p;
            EXPECT_EQ(st->st_gid, hs.st_gid) << p;
        } else {
            EXPECT_EQ(st->st_mode & 07777, 0555u) << p;
            EXPECT_EQ(st->st_uid, 0u) << p;
        }
        if (ex.times) {
            EXPECT_EQ(st->st_mtim.tv_sec, hs.st_mtim.tv_sec) << p;
        }
        if (ex.modes && !S_ISDIR(hs.st_mode)) {
            EXPECT_EQ(st->st_nlink, hs.st_nlink) << p << ": link count";
        }
        if (S_ISREG(hs.st_mode)) {
            EXPECT_EQ(static_cast<std::uint64_t>(st->st_size),
                      static_cast<std::uint64_t>(hs.st_size))
                << p;
            auto data = m.read_file(p);
            ASSERT_TRUE(data) << p << ": " << data.error().describe();
            EXPECT_TRUE(*data == read_host(hp)) << p << ": contents differ";
        } else if (S_ISLNK(hs.st_mode)) {
            auto t = m.readlink(p);
            ASSERT_TRUE(t) << p << ": " << t.error().describe();
            EXPECT_EQ(*t, ex.link(fs::read_symlink(hp).string())) << p;
        } else if (S_ISCHR(hs.st_mode) || S_ISBLK(hs.st_mode)) {
            EXPECT_EQ(st->st_rdev, hs.st_rdev) << p;
        } else if (S_ISDIR(hs.st_mode)) {
            // ".." leads back here (through PL for a relocated directory).
            auto up = m.stat(p + "/..", Follow::no);
            auto self = m.stat(path, Follow::no);
            ASSERT_TRUE(up && self) << p;
            EXPECT_EQ(up->st_ino, self->st_ino) << p << "/..";
            compare_dir(m, hp, p, ex, count, inos);
        }
    }
}

}  // namespace

std::size_t compare_tree(const Mount& m, const fs::path& src, const Expect& expect) {
    std::size_t count = 0;
    std::set<std::uint64_t> inos;
    compare_dir(m, src, "/", expect, count, inos);
    return count;
}

}  // namespace uk::cd9660::test
