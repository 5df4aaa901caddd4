// UNIX-domain sockets in FFS. Debian's makefs (NetBSD's walk_dir) leaves a source tree's
// sockets out of the image, so the makefs read tests cannot hold one: the driver makes them
// (mknod S_IFSOCK), and its own reader after a remount, our checker, the raw inode and The
// Sleuth Kit (fls, istat) show an IFSOCK inode with a DT_SOCK entry.
#include <sys/socket.h>
#include <sys/un.h>

#include <map>

#include "rw_support.hpp"

namespace uk::ffs::test {
namespace {

constexpr std::uint16_t netbsd_ifsock = 0140000;  // sys/stat.h S_IFSOCK, in di_mode
constexpr std::uint16_t netbsd_ifmt = 0170000;

// A socket bound at `path` (it stays when the descriptor is closed), as bind(2) leaves one.
bool make_host_socket(const fs::path& path) {
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0)
        return false;
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    const std::string p = path.string();
    if (p.size() >= sizeof a.sun_path) {
        ::close(s);
        return false;
    }
    std::memcpy(a.sun_path, p.c_str(), p.size() + 1);
    const bool ok = ::bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    return ok;
}

// The entries of `dir` with their types, as readdir gives them.
std::map<std::string, vfs::VType> listing(vfs::Mount& m, const std::string& dir) {
    std::map<std::string, vfs::VType> out;
    auto r = m.readdir(dir, 0, [&](const vfs::DirEntry& e, std::uint64_t) {
        out.emplace(std::string(e.name), e.type);
        return true;
    });
    EXPECT_TRUE(r) << r.error().describe();
    return out;
}

using FfsSocket = RwImageTest;

TEST_P(FfsSocket, MknodMakesASocket) {
    std::uint64_t sock_ino = 0, deep_ino = 0;
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        ASSERT_TRUE((*m)->mknod("/sock", S_IFSOCK | 0755, 0));
        ASSERT_TRUE((*m)->mkdir("/d", 0700));
        ASSERT_TRUE((*m)->mknod("/d/deep", S_IFSOCK | 0600, 0));
        auto a = (*m)->stat("/sock", vfs::Follow::no);
        ASSERT_TRUE(a);
        EXPECT_EQ(a->type, vfs::VType::sock);
        sock_ino = a->ino;
        deep_ino = (*m)->stat("/d/deep", vfs::Follow::no)->ino;
        std::vector<std::byte> buf(4);
        EXPECT_EQ((*m)->read("/sock", 0, buf).error().errnum(), ENXIO);
        EXPECT_EQ((*m)->write("/sock", 0, buf).error().errnum(), ENXIO);
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_TRUE(checker_clean(m_img));
    {
        OnDisk disk(m_img);
        EXPECT_EQ(disk.mode(sock_ino), netbsd_ifsock | 0755);
        EXPECT_EQ(disk.mode(deep_ino), netbsd_ifsock | 0600);
        EXPECT_EQ(disk.blocks(sock_ino), 0u);
        EXPECT_EQ(disk.db(sock_ino, 0), 0u);
    }
    {
        auto m = mount_image(m_img);
        ASSERT_TRUE(m) << m.error().describe();
        for (const auto& [path, mode] :
             {std::pair<const char*, std::uint32_t>{"/sock", 0755}, {"/d/deep", 0600}}) {
            auto a = (*m)->stat(path, vfs::Follow::no);
            ASSERT_TRUE(a) << path;
            EXPECT_EQ(a->type, vfs::VType::sock) << path;
            EXPECT_EQ(a->mode, mode) << path;
            EXPECT_EQ(a->size, 0u) << path;
            EXPECT_EQ(a->nlink, 1u) << path;
        }
        EXPECT_EQ(listing(**m, "/")["sock"], vfs::VType::sock);
        EXPECT_EQ(listing(**m, "/d")["deep"], vfs::VType::sock);
    }

    // The Sleuth Kit finds a UFS2 superblock only at 65536, where our newfs puts it and
    // makefs does not.
    if (!have_tool("fls") || !have_tool("istat")) {
        std::cerr << "note: The Sleuth Kit is not installed; skipping its reading\n";
        return;
    }
    if (GetParam().version == 2 && GetParam().makefs) {
        std::cerr << "note: The Sleuth Kit cannot find makefs' UFS2 superblock; skipped\n";
        return;
    }
    // TSK's letters: 's' for a socket's name (DT_SOCK), 'h' for a socket inode (its
    // tsk_fs_meta_type_str; an ext2 socket made by mke2fs -d lists as "s/h" too).
    const std::string type = GetParam().version == 2 ? "ufs2" : "ufs1";
    const std::string fls = capture(fmt::format("fls -r -p -f {} {}", type, m_img.string()));
    EXPECT_NE(fls.find(fmt::format("s/h {}:\tsock\n", sock_ino)), std::string::npos) << fls;
    EXPECT_NE(fls.find(fmt::format("s/h {}:\td/deep\n", deep_ino)), std::string::npos) << fls;
    const std::string istat =
        capture(fmt::format("istat -f {} {} {}", type, m_img.string(), sock_ino));
    EXPECT_NE(istat.find("mode: hrwxr-xr-x"), std::string::npos) << istat;
    EXPECT_NE(istat.find("size: 0\n"), std::string::npos) << istat;
}

INSTANTIATE_TEST_SUITE_P(Images, FfsSocket, ::testing::ValuesIn(rw_images), rw_image_name);

// What makefs does with a source tree's socket: when it leaves it out (Debian 12's does, as
// NetBSD's walk_dir skips sockets), the rest of the tree is there; should a makefs copy it,
// it must read back as a socket.
TEST(FfsSocketMakefs, SourceSocket) {
    if (!have_tool("makefs"))
        GTEST_SKIP() << "makefs is not installed";
    TempDir work;
    const fs::path src = work.path() / "src";
    fs::create_directories(src);
    write_host_file(src / "file", pattern(10, 1));
    ASSERT_TRUE(make_host_socket(src / "sock")) << std::strerror(errno);
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(src, img, "-s 4m -o version=1"), 0);
    auto m = mount_image(img);
    ASSERT_TRUE(m) << m.error().describe();
    const auto names = listing(**m, "/");
    EXPECT_EQ(names.count("file"), 1u);
    if (names.count("sock") == 0) {
        std::cerr << "note: makefs left the source's socket out of the image\n";
        return;
    }
    EXPECT_EQ(names.at("sock"), vfs::VType::sock);
    auto a = (*m)->stat("/sock", vfs::Follow::no);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->type, vfs::VType::sock);
}

}  // namespace
}  // namespace uk::ffs::test
