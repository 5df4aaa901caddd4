// A file reaching past the double indirect blocks, into the triple indirect ones: UFS2 with
// 4 KiB blocks (512 pointers a block) needs 12 + 512 + 512^2 blocks, just over 1 GiB. makefs
// writes every block of the file (it keeps no holes), so the image is that large; the test
// reads the data at the ends of each level rather than the whole file. (UFS1 at 4 KiB needs
// 4 GiB before its triple indirect block: not made here.)
#include <gtest/gtest.h>

#include "image_support.hpp"

namespace uk::ffs::test {
namespace {

TEST(FfsLarge, TripleIndirectUfs2) {
    if (!have_tool("makefs"))
        GTEST_SKIP() << "makefs is not installed";
    TempDir work;
    const fs::path src = work.path() / "src";
    fs::create_directories(src);
    constexpr std::uint64_t bs = 4096;
    constexpr std::uint64_t triple = (12 + 512 + 512 * 512) * bs;  // first byte mapped there
    const std::uint64_t size = triple + 3 * bs + 100;
    // Marks at the start of each level and at the end, the rest a hole in the source.
    const std::uint64_t marks[] = {0,           12 * bs,     (12 + 512) * bs,
                                   triple - 10, triple + bs, size - 300};
    const int fd = ::open((src / "huge").c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    std::uint32_t seed = 1;
    for (const std::uint64_t at : marks) {
        const auto bytes = pattern(300, seed++);
        ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at)), 300);
    }
    ::close(fd);
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(src, img, "-B be -o version=2,bsize=4096,fsize=512"), 0);
    fs::remove(src / "huge");  // room back before the image is read

    auto m = mount_image(img);
    ASSERT_TRUE(m) << m.error().describe();
    auto a = (*m)->stat("/huge", vfs::Follow::no);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->size, size);
    seed = 1;
    for (const std::uint64_t at : marks) {
        std::vector<std::byte> got(400);
        auto n = (*m)->read("/huge", at, got);
        ASSERT_TRUE(n) << at << ": " << n.error().describe();
        const std::size_t want_n =
            static_cast<std::size_t>(std::min<std::uint64_t>(400, size - at));
        ASSERT_EQ(*n, want_n) << at;
        const auto want = pattern(300, seed++);
        EXPECT_TRUE(std::equal(want.begin(), want.end(), got.begin())) << "at " << at;
        for (std::size_t i = 300; i < want_n; ++i)
            ASSERT_EQ(got[i], std::byte{0}) << at << "+" << i;
    }
}

}  // namespace
}  // namespace uk::ffs::test
