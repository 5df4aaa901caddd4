// uk::File on tmpfs: truncating through an open descriptor (ftruncate), which ukfs-fuse uses
// for the kernel's truncate of an open file.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <string>

#include <ukfs/ukfs.hpp>

namespace {

std::span<const std::byte> bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

uk::Mount tmpfs() {
    uk::MountOptions o;
    o.type = "tmpfs";
    auto m = uk::Mount::open("", o);
    EXPECT_TRUE(m) << m.error().describe();
    return std::move(*m);
}

TEST(File, TruncateThroughTheDescriptor) {
    uk::Mount m = tmpfs();
    auto f = m.open_file("/f", O_RDWR | O_CREAT, 0644);
    ASSERT_TRUE(f) << f.error().describe();
    ASSERT_TRUE(f->write(0, bytes("hello world")));
    ASSERT_TRUE(f->truncate(5));
    EXPECT_EQ(f->stat()->st_size, 5);
    ASSERT_TRUE(f->truncate(9000));
    EXPECT_EQ(m.stat("/f")->st_size, 9000);
    std::vector<std::byte> buf(16);
    ASSERT_EQ(*f->read(3, std::span(buf).first(4)), 4U);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), 4), std::string("lo\0\0", 4));
    // Still reachable after its name is gone.
    ASSERT_TRUE(m.remove("/f"));
    ASSERT_TRUE(f->truncate(1));
    EXPECT_EQ(f->stat()->st_size, 1);
}

TEST(File, TruncateNeedsWriteAccess) {
    uk::Mount m = tmpfs();
    ASSERT_TRUE(m.create("/f", 0644));
    auto f = m.open_file("/f", O_RDONLY);
    ASSERT_TRUE(f);
    auto r = f->truncate(0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EINVAL);
    ASSERT_TRUE(m.mkdir("/d"));
    auto d = m.open_file("/d", O_RDONLY | O_DIRECTORY);
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->truncate(0));
}

}  // namespace
