// Corrupt images, one recipe per case, made at test time from a clean mkfs.fat + mcopy image:
// each gives a clear error (errno and a message naming the structure), never a crash or a
// hang, and a read-only mount leaves the image byte for byte as it was.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <utility>

#include <fmt/format.h>

#include "support.hpp"

namespace uk::msdosfs::test {
namespace {

class Corrupt : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_tools())
            GTEST_SKIP() << "mkfs.fat / mtools are not installed";
        const fs::path src = m_work.path() / "src";
        fs::create_directories(src / "d");
        write_host_file(src / "a.bin", pattern(5000, 1));
        write_host_file(src / "d" / "inner.txt", pattern(100, 2));
        m_img = m_work.path() / "img";
        ASSERT_EQ(make_image(m_img, "-F 16 -s 1", 4200, src), 0);
        auto m = mount_image(m_img, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto& f = static_cast<Msdosfs&>((*m)->fs());
        m_g = f.geometry();
        m_file_entry = (*m)->stat("/a.bin", vfs::Follow::no)->ino;
        m_dir_entry = (*m)->stat("/d", vfs::Follow::no)->ino;
        m_inner_entry = (*m)->stat("/d/inner.txt", vfs::Follow::no)->ino;
        m_file_cluster = read16(m_file_entry + 26);
        ASSERT_TRUE((*m)->unmount(false));
    }

    std::uint16_t read16(std::uint64_t off) {
        std::uint8_t b[2];
        const int fd = ::open(m_img.c_str(), O_RDONLY);
        EXPECT_EQ(::pread(fd, b, 2, static_cast<off_t>(off)), 2);
        ::close(fd);
        return static_cast<std::uint16_t>(b[0] | (b[1] << 8));
    }
    std::string region(std::uint64_t off, std::uint64_t len) {
        std::string out(len, '\0');
        const int fd = ::open(m_img.c_str(), O_RDONLY);
        EXPECT_EQ(::pread(fd, out.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
        ::close(fd);
        return out;
    }
    // The FATs, and the data area from the first cluster on: what a refused write must leave
    // as it was.
    struct FatAndData {
        std::string fats, data;
        bool operator==(const FatAndData&) const = default;
    };
    FatAndData fat_and_data() {
        const std::uint64_t bps = m_g.bytes_per_sector;
        const std::uint64_t data_at = m_g.first_data_sector * bps;
        return {
            region(m_g.reserved_sectors * bps, std::uint64_t{m_g.num_fats} * m_g.fat_sectors * bps),
            region(data_at, fs::file_size(m_img) - data_at)};
    }
    void patch(std::uint64_t off, std::vector<std::uint8_t> bytes) {
        const int fd = ::open(m_img.c_str(), O_WRONLY);
        ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(off)),
                  static_cast<ssize_t>(bytes.size()));
        ::close(fd);
    }
    void patch16(std::uint64_t off, std::uint16_t v) {
        patch(off, {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)});
    }
    // FAT16 entry `c` in every copy.
    void set_fat(std::uint32_t c, std::uint16_t v) {
        for (std::uint32_t k = 0; k < m_g.num_fats; ++k)
            patch16((m_g.reserved_sectors + std::uint64_t{k} * m_g.fat_sectors) *
                            m_g.bytes_per_sector +
                        2ull * c,
                    v);
    }
    // Mount (expecting success) and run `op`, which must fail with `err`; the image must not
    // change.
    void expect_error(int err, const std::function<Result<void>(vfs::Mount&)>& op) {
        const std::string before = file_digest(m_img);
        auto m = mount_image(m_img, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto r = op(**m);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().errnum(), err) << r.error().describe();
        EXPECT_FALSE(r.error().message().empty());
        (void)(*m)->unmount(true);
        EXPECT_EQ(file_digest(m_img), before);
    }
    void expect_mount_error(int err) {
        auto m = mount_image(m_img, true);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().errnum(), err) << m.error().describe();
        EXPECT_FALSE(m.error().message().empty());
    }
    static Result<void> read_file(vfs::Mount& m, const std::string& path) {
        std::vector<std::byte> buf(1 << 16);
        UKFS_TRY(m.read(path, 0, buf));
        return {};
    }
    static Result<void> list(vfs::Mount& m, const std::string& path) {
        return m.readdir(path, 0, [](const vfs::DirEntry&, std::uint64_t) { return true; });
    }

    TempDir m_work;
    fs::path m_img;
    Geometry m_g;
    std::uint64_t m_file_entry = 0, m_dir_entry = 0, m_inner_entry = 0;
    std::uint16_t m_file_cluster = 0;
};

TEST_F(Corrupt, NoSignature) {
    patch(510, {0, 0});
    expect_mount_error(EINVAL);
}

TEST_F(Corrupt, BadSectorSize) {
    patch16(11, 300);
    expect_mount_error(EINVAL);
}

TEST_F(Corrupt, BadClusterSize) {
    patch(13, {3});
    expect_mount_error(EINVAL);
}

TEST_F(Corrupt, NoFats) {
    patch(16, {0});
    expect_mount_error(EINVAL);
}

TEST_F(Corrupt, VolumeLargerThanDevice) {
    patch16(19, 0);
    patch(32, {0xFF, 0xFF, 0xFF, 0x0F});
    expect_mount_error(EINVAL);
}

TEST_F(Corrupt, ChainLoops) {
    set_fat(m_file_cluster + 3u, m_file_cluster);
    expect_error(EIO, [](vfs::Mount& m) { return read_file(m, "/a.bin"); });
}

TEST_F(Corrupt, ChainLeavesVolume) {
    set_fat(m_file_cluster + 1u, 0xFFF0);
    expect_error(EIO, [](vfs::Mount& m) { return read_file(m, "/a.bin"); });
}

TEST_F(Corrupt, ChainReachesFreeCluster) {
    set_fat(m_file_cluster + 2u, 0);
    expect_error(EIO, [](vfs::Mount& m) { return read_file(m, "/a.bin"); });
}

TEST_F(Corrupt, ChainShorterThanSize) {
    set_fat(m_file_cluster, 0xFFFF);
    expect_error(EIO, [](vfs::Mount& m) { return read_file(m, "/a.bin"); });
}

TEST_F(Corrupt, DirectoryEntryPointsOutside) {
    patch16(m_dir_entry + 26, 0xFFF0);
    expect_error(EIO, [](vfs::Mount& m) { return list(m, "/d"); });
}

TEST_F(Corrupt, FileEntryPointsOutside) {
    patch16(m_file_entry + 26, 0xFFF3);
    expect_error(EIO, [](vfs::Mount& m) { return read_file(m, "/a.bin"); });
}

TEST_F(Corrupt, DirectoryLoopsOnItself) {
    // The directory's only cluster points back at itself.
    const std::uint16_t c = read16(m_dir_entry + 26);
    set_fat(c, c);
    expect_error(EIO, [](vfs::Mount& m) { return list(m, "/d"); });
}

TEST_F(Corrupt, ReadWriteMountOfCorruptChainFailsCleanly) {
    set_fat(m_file_cluster + 3u, m_file_cluster);
    auto m = mount_image(m_img, false);
    ASSERT_TRUE(m) << m.error().describe();
    std::vector<std::byte> data(10, std::byte{1});
    auto w = (*m)->write("/a.bin", 6000, data);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().errnum(), EIO);
    ASSERT_TRUE((*m)->unmount(false));
}

// Two files whose entries start at the same cluster: whichever is walked second while the
// first is live is refused, naming the cross-link, in either order.
TEST_F(Corrupt, CrossLinkedFiles) {
    patch16(m_inner_entry + 26, m_file_cluster);
    for (const auto& [first, second] :
         {std::pair{"/a.bin", "/d/inner.txt"}, std::pair{"/d/inner.txt", "/a.bin"}}) {
        const std::string before = file_digest(m_img);
        auto m = mount_image(m_img, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto fd = (*m)->open(first, O_RDONLY);
        ASSERT_TRUE(fd) << fd.error().describe();
        std::vector<std::byte> buf(100);
        ASSERT_TRUE((*m)->read_fd(*fd, 0, buf));
        auto r = read_file(**m, second);
        ASSERT_FALSE(r) << second;
        EXPECT_EQ(r.error().errnum(), EIO);
        EXPECT_NE(r.error().describe().find("cross-linked"), std::string::npos)
            << r.error().describe();
        EXPECT_NE(r.error().describe().find(fmt::format("cluster {}", m_file_cluster)),
                  std::string::npos)
            << r.error().describe();
        // The first file is a victim too: once the cross-link is known, it is refused.
        auto again = (*m)->read_fd(*fd, 0, buf);
        ASSERT_FALSE(again);
        EXPECT_EQ(again.error().errnum(), EIO);
        ASSERT_TRUE((*m)->close(*fd));
        ASSERT_TRUE((*m)->unmount(false));
        EXPECT_EQ(file_digest(m_img), before);
    }
}

// The same, with the first file's node gone before the second is loaded (the driver's nodes,
// below the VFS's cache): a chain stays registered after its node is dropped.
TEST_F(Corrupt, CrossLinkedFilesOneAtATime) {
    patch16(m_inner_entry + 26, m_file_cluster);
    for (const bool ro : {true, false}) {
        auto m = mount_image(m_img, ro);
        ASSERT_TRUE(m) << m.error().describe();
        vfs::FileSystem& fs = (*m)->fs();
        std::vector<std::byte> buf(100);
        {
            auto a = fs.load(m_file_entry);
            ASSERT_TRUE(a) << a.error().describe();
            ASSERT_TRUE((*a)->read(0, buf));
        }
        auto inner = fs.load(m_inner_entry);
        ASSERT_TRUE(inner) << inner.error().describe();
        auto r = (*inner)->read(0, buf);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().errnum(), EIO);
        EXPECT_NE(r.error().describe().find("cross-linked"), std::string::npos)
            << r.error().describe();
        ASSERT_TRUE((*m)->unmount(false));
    }
}

// Cross-links that the FAT alone shows, met read-write before the other chain's node is
// live: the chain is refused for writing and for reading, so is its partner once known, and
// the FATs and the data come out of the mount as they went in.
class CrossLinkInFat : public Corrupt {
protected:
    // `first` is found cross-linked for `why`; `partner`, the other chain, is refused after.
    void expect_refused(const std::string& first, const std::string& partner,
                        const std::string& why) {
        const FatAndData before = fat_and_data();
        auto m = mount_image(m_img, false);
        ASSERT_TRUE(m) << m.error().describe();
        const std::vector<std::byte> data(700, std::byte{0x5A});
        for (const std::string& path : {first, partner}) {
            auto w = (*m)->write(path, 0, data);
            ASSERT_FALSE(w) << path;
            EXPECT_EQ(w.error().errnum(), EIO) << path;
            EXPECT_NE(w.error().describe().find("cross-linked"), std::string::npos)
                << w.error().describe();
            if (path == first) {
                EXPECT_NE(w.error().describe().find(why), std::string::npos)
                    << w.error().describe();
            }
            auto r = read_file(**m, path);
            ASSERT_FALSE(r) << path;
            EXPECT_EQ(r.error().errnum(), EIO) << path;
        }
        ASSERT_TRUE((*m)->unmount(false));
        EXPECT_TRUE(fat_and_data() == before);
    }
    std::uint16_t fat16(std::uint32_t c) {
        return read16(m_g.reserved_sectors * m_g.bytes_per_sector + 2ull * c);
    }
};

// An entry starting at a.bin's second cluster: its first cluster is linked to from a.bin's.
TEST_F(CrossLinkInFat, EntryStartsInsideAnotherChain) {
    ASSERT_EQ(fat16(m_file_cluster), m_file_cluster + 1);
    patch16(m_inner_entry + 26, static_cast<std::uint16_t>(m_file_cluster + 1));
    expect_refused("/d/inner.txt", "/a.bin",
                   fmt::format("links to its first cluster {}", m_file_cluster + 1));
}

// inner.txt's one cluster linked on into a.bin's third: two FAT entries point at it. a.bin,
// walked first, is refused too, though inner.txt was never opened.
TEST_F(CrossLinkInFat, ChainsJoinInTheFat) {
    const std::uint16_t inner = read16(m_inner_entry + 26);
    ASSERT_EQ(fat16(m_file_cluster + 1), m_file_cluster + 2);
    set_fat(inner, static_cast<std::uint16_t>(m_file_cluster + 2));
    expect_refused("/a.bin", "/d/inner.txt",
                   fmt::format("two chains link to cluster {}", m_file_cluster + 2));
}

// A cross-link met read-write: no write, truncation, removal or rename goes through it, and
// the image comes out as it went in.
TEST_F(Corrupt, CrossLinkedFilesReadWrite) {
    patch16(m_inner_entry + 26, m_file_cluster);
    // The fixed root, where /new is created and removed, is left out.
    const FatAndData before = fat_and_data();
    auto m = mount_image(m_img, false);
    ASSERT_TRUE(m) << m.error().describe();
    auto fd = (*m)->open("/a.bin", O_RDONLY);
    ASSERT_TRUE(fd) << fd.error().describe();
    std::vector<std::byte> buf(100);
    ASSERT_TRUE((*m)->read_fd(*fd, 0, buf));
    const std::vector<std::byte> data(3000, std::byte{0x5A});
    auto w = (*m)->write("/d/inner.txt", 0, data);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().errnum(), EIO);
    auto grow = (*m)->write("/d/inner.txt", 9000, data);
    ASSERT_FALSE(grow);
    EXPECT_EQ(grow.error().errnum(), EIO);
    auto t = (*m)->truncate("/d/inner.txt", 0);
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().errnum(), EIO);
    auto rm = (*m)->remove("/d/inner.txt");
    ASSERT_FALSE(rm);
    EXPECT_EQ(rm.error().errnum(), EIO);
    auto rmA = (*m)->remove("/a.bin");
    ASSERT_FALSE(rmA);
    EXPECT_EQ(rmA.error().errnum(), EIO);
    ASSERT_TRUE((*m)->create("/new", 0644, true));
    auto over = (*m)->rename("/new", "/d/inner.txt");
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().errnum(), EIO);
    ASSERT_TRUE((*m)->remove("/new"));
    ASSERT_TRUE((*m)->close(*fd));
    ASSERT_TRUE((*m)->unmount(false));
    EXPECT_TRUE(fat_and_data() == before);
    auto again = mount_image(m_img, true);
    ASSERT_TRUE(again) << again.error().describe();
    std::vector<std::byte> whole(5000);
    auto n = (*again)->read("/a.bin", 0, whole);
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_EQ(whole, pattern(5000, 1));
    ASSERT_TRUE((*again)->unmount(false));
}

}  // namespace
}  // namespace uk::msdosfs::test
