#include "io/block_device.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

using namespace uk;
using namespace uk::io;

namespace {

std::string temp_image(std::size_t size) {
    char path[] = "/tmp/ukfs-bd-XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    close(fd);
    return path;
}

}  // namespace

TEST(ImageFile, ReadWriteAndBounds) {
    std::string path = temp_image(8192);
    {
        auto dev = ImageFile::open(path, false);
        ASSERT_TRUE(dev) << dev.error().describe();
        EXPECT_EQ((*dev)->size(), 8192u);
        std::vector<std::byte> buf(512, std::byte{0x5a});
        ASSERT_TRUE((*dev)->write_at(4096, buf));
        std::vector<std::byte> back(512);
        ASSERT_TRUE((*dev)->read_at(4096, back));
        EXPECT_EQ(back, buf);
        auto past = (*dev)->read_at(8000, back);
        ASSERT_FALSE(past);
        EXPECT_EQ(past.error().errnum(), EIO);
        EXPECT_EQ((*dev)->write_at(8000, buf).error().errnum(), ENOSPC);
        EXPECT_TRUE((*dev)->flush());
    }
    {
        auto ro = ImageFile::open(path, true);
        ASSERT_TRUE(ro);
        std::vector<std::byte> buf(16);
        EXPECT_EQ((*ro)->write_at(0, buf).error().errnum(), EROFS);
    }
    unlink(path.c_str());
    auto missing = ImageFile::open(path, true);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().errnum(), ENOENT);
}

TEST(SliceDevice, ConfinesToItsWindow) {
    auto mem = std::make_shared<MemoryDevice>(4096);
    auto slice = SliceDevice::make(mem, 1024, 1024);
    ASSERT_TRUE(slice);
    std::vector<std::byte> buf(16, std::byte{7});
    ASSERT_TRUE((*slice)->write_at(0, buf));
    EXPECT_EQ(mem->bytes()[1024], std::byte{7});
    EXPECT_FALSE((*slice)->write_at(1020, buf));
    EXPECT_EQ((*slice)->host_offset(), 1024u);
    auto too_big = SliceDevice::make(mem, 4000, 100);
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().errnum(), ENXIO);
}

TEST(MemoryDevice, ReadOnlyRefusesWrites) {
    MemoryDevice dev(1024, true);
    std::vector<std::byte> buf(8);
    EXPECT_EQ(dev.write_at(0, buf).error().errnum(), EROFS);
    EXPECT_TRUE(dev.read_at(1016, buf));
}

// A host block device: its size comes from the kernel (BLKGETSIZE64). Needs root and a loop
// device; skips with a message otherwise.
TEST(ImageFile, HostBlockDevice) {
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to attach a loop device";
    std::string path = temp_image(3 * 1024 * 1024);
    std::string cmd = "losetup -f --show " + path + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char dev[64] = {};
    bool got = fgets(dev, sizeof dev, p) != nullptr;
    pclose(p);
    if (!got || dev[0] != '/') {
        unlink(path.c_str());
        GTEST_SKIP() << "no loop device available here (losetup failed)";
    }
    std::string loop(dev);
    loop.erase(loop.find_last_not_of("\n") + 1);
    {
        auto d = ImageFile::open(loop, false);
        ASSERT_TRUE(d) << d.error().describe();
        EXPECT_EQ((*d)->size(), 3u * 1024 * 1024);
        EXPECT_GE((*d)->sector_size(), 512u);
        std::vector<std::byte> buf(4096, std::byte{0x42}), back(4096);
        ASSERT_TRUE((*d)->write_at(1 << 20, buf));
        ASSERT_TRUE((*d)->flush());
        ASSERT_TRUE((*d)->read_at(1 << 20, back));
        EXPECT_EQ(back, buf);
        EXPECT_EQ((*d)->read_at(3 * 1024 * 1024 - 100, back).error().errnum(), EIO);
    }
    EXPECT_EQ(system(("losetup -d " + loop).c_str()), 0);
    // What went through the loop device is in the file.
    auto f = ImageFile::open(path, true);
    ASSERT_TRUE(f);
    std::vector<std::byte> back(4096);
    ASSERT_TRUE((*f)->read_at(1 << 20, back));
    EXPECT_EQ(back[0], std::byte{0x42});
    unlink(path.c_str());
}
