// Mount-level behaviour over tmpfs: descriptors, rename rules, unlinked-but-open files,
// directory iteration, release, and many threads at once.
#include <ukfs/ukfs.hpp>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

using namespace uk;

namespace {

Mount tmpfs() {
    auto m = Mount::open("", MountOptions{.type = "tmpfs"});
    EXPECT_TRUE(m) << m.error().describe();
    return std::move(*m);
}

int err(const auto& r) { return r ? 0 : r.error().errnum(); }

std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string read_all(Mount& m, std::string_view p) {
    auto v = m.read_file(p);
    EXPECT_TRUE(v) << p << ": " << v.error().describe();
    return v ? std::string(reinterpret_cast<const char*>(v->data()), v->size()) : "";
}

}  // namespace

TEST(Mount, UnlinkedFileStaysReadableThroughItsDescriptor) {
    Mount m = tmpfs();
    ASSERT_TRUE(m.create("/f", 0644));
    ASSERT_TRUE(m.write("/f", 0, as_bytes("payload")));
    auto f = m.open_file("/f", O_RDWR);
    ASSERT_TRUE(f);
    ASSERT_TRUE(m.remove("/f"));
    EXPECT_EQ(err(m.stat("/f")), ENOENT);
    std::byte buf[16];
    auto n = f->read(0, buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 7u);
    EXPECT_EQ(f->stat()->st_nlink, 0u);
    auto before = m.statfs();
    ASSERT_TRUE(f->close());
    auto after = m.statfs();
    ASSERT_TRUE(before && after);
    EXPECT_GT(after->files_free, before->files_free);  // reclaimed at the last close
}

TEST(Mount, OpenFlags) {
    Mount m = tmpfs();
    EXPECT_EQ(err(m.open_file("/n", O_RDONLY)), ENOENT);
    ASSERT_TRUE(m.open_file("/n", O_RDWR | O_CREAT, 0600));
    EXPECT_EQ(err(m.open_file("/n", O_RDWR | O_CREAT | O_EXCL)), EEXIST);
    ASSERT_TRUE(m.write("/n", 0, as_bytes("abc")));
    ASSERT_TRUE(m.open_file("/n", O_WRONLY | O_TRUNC));
    EXPECT_EQ(m.stat("/n")->st_size, 0);
    ASSERT_TRUE(m.mkdir("/d"));
    EXPECT_EQ(err(m.open_file("/d", O_WRONLY)), EISDIR);
    EXPECT_EQ(err(m.open_file("/n", O_RDONLY | O_DIRECTORY)), ENOTDIR);
    ASSERT_TRUE(m.symlink("n", "/ln"));
    EXPECT_EQ(err(m.open_file("/ln", O_RDONLY | O_NOFOLLOW)), ELOOP);
    auto ro = m.open_file("/n", O_RDONLY);
    ASSERT_TRUE(ro);
    EXPECT_EQ(err(ro->write(0, as_bytes("x"))), EBADF);
    auto app = m.open_file("/n", O_WRONLY | O_APPEND);
    ASSERT_TRUE(app->write(0, as_bytes("12")));
    ASSERT_TRUE(app->write(0, as_bytes("34")));
    EXPECT_EQ(read_all(m, "/n"), "1234");
}

TEST(Mount, RenameRules) {
    Mount m = tmpfs();
    ASSERT_TRUE(m.mkdir("/a"));
    ASSERT_TRUE(m.mkdir("/a/b"));
    ASSERT_TRUE(m.mkdir("/e"));
    ASSERT_TRUE(m.create("/f", 0644));
    ASSERT_TRUE(m.create("/g", 0644));
    EXPECT_EQ(err(m.rename("/a", "/a/b/c")), EINVAL);  // below itself
    EXPECT_EQ(err(m.rename("/f", "/e")), EISDIR);
    EXPECT_EQ(err(m.rename("/e", "/f")), ENOTDIR);
    EXPECT_EQ(err(m.rename("/a", "/e")), 0);            // over an empty directory
    EXPECT_EQ(err(m.stat("/a")), ENOENT);
    EXPECT_EQ(err(m.stat("/e/b")), 0);
    ASSERT_TRUE(m.mkdir("/x"));
    EXPECT_EQ(err(m.rename("/x", "/e")), ENOTEMPTY);
    ASSERT_TRUE(m.write("/g", 0, as_bytes("g")));
    EXPECT_EQ(err(m.rename("/g", "/f")), 0);            // over an existing file
    EXPECT_EQ(read_all(m, "/f"), "g");
    ASSERT_TRUE(m.link("/f", "/f2"));
    EXPECT_EQ(err(m.rename("/f", "/f2")), 0);           // same node: nothing happens
    EXPECT_EQ(err(m.stat("/f")), 0);
    EXPECT_EQ(err(m.rename("/e/b", "/x/b")), 0);        // across directories: ".." fixed
    EXPECT_EQ(m.stat("/x/b/..")->st_ino, m.stat("/x")->st_ino);
    EXPECT_EQ(m.stat("/x")->st_nlink, 3u);
    EXPECT_EQ(m.stat("/e")->st_nlink, 2u);
}

TEST(Mount, DirectoryRange) {
    Mount m = tmpfs();
    std::set<std::string> want{".", ".."};
    for (int i = 0; i < 1000; ++i) {
        std::string n = "file" + std::to_string(i);
        ASSERT_TRUE(m.create("/" + n, 0644));
        want.insert(n);
    }
    auto d = m.opendir("/");
    ASSERT_TRUE(d);
    std::set<std::string> got;
    for (const DirEntry& e : *d)
        got.insert(e.name);
    EXPECT_FALSE(d->error());
    EXPECT_EQ(got, want);
    EXPECT_EQ(m.list("/")->size(), want.size());
}

TEST(Mount, ReleaseRefusesWhileFilesAreOpen) {
    auto m = Mount::open("", MountOptions{.type = "tmpfs"});
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->create("/f", 0644));
    auto f = m->open_file("/f", O_RDONLY);
    ASSERT_TRUE(f);
    EXPECT_EQ(err(m->release()), EBUSY);
    ASSERT_TRUE(f->close());
    EXPECT_TRUE(m->release());
}

TEST(Mount, UnknownTypeIsENODEV) {
    auto m = Mount::open("", MountOptions{.type = "nosuchfs"});
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), ENODEV);
    EXPECT_NE(m.error().message().find("nosuchfs"), std::string::npos);
}

// Many threads create, write, rename and list on one mount; the result is checked after.
TEST(Mount, ManyThreadsAtOnce) {
    Mount m = tmpfs();
    constexpr int threads = 8, files = 200;
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::string dir = "/t" + std::to_string(t);
            if (!m.mkdir(dir))
                ++failures;
            for (int i = 0; i < files; ++i) {
                std::string p = dir + "/f" + std::to_string(i);
                std::string content = p + " content";
                if (!m.create(p, 0644) || !m.write(p, 0, as_bytes(content)))
                    ++failures;
                if (i % 2 == 0 && !m.rename(p, p + ".renamed"))
                    ++failures;
                if (i % 50 == 0 && !m.list("/"))
                    ++failures;
                std::byte buf[64];
                if (!m.read(i % 2 == 0 ? p + ".renamed" : p, 0, buf))
                    ++failures;
            }
        });
    }
    for (auto& th : pool)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    for (int t = 0; t < threads; ++t) {
        std::string dir = "/t" + std::to_string(t);
        auto entries = m.list(dir);
        ASSERT_TRUE(entries);
        EXPECT_EQ(entries->size(), static_cast<std::size_t>(files + 2));
        for (int i = 0; i < files; ++i) {
            std::string p = dir + "/f" + std::to_string(i);
            std::string name = i % 2 == 0 ? p + ".renamed" : p;
            EXPECT_EQ(read_all(m, name), p + " content");
        }
    }
}
