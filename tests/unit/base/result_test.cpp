#include "base/result.hpp"
#include "base/checked.hpp"

#include <gtest/gtest.h>

using namespace uk;

namespace {

Result<int> half(int v) {
    if (v % 2)
        return Error::sys(EINVAL, "odd");
    return v / 2;
}

Result<int> quarter(int v) {
    int h = UKFS_TRY(half(v));
    return UKFS_TRY(half(h));
}

Result<void> check_even(int v) {
    UKFS_TRY(half(v));
    return {};
}

}  // namespace

TEST(Result, TryPropagatesValueAndError) {
    EXPECT_EQ(*quarter(8), 2);
    auto r = quarter(6);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EINVAL);
    EXPECT_EQ(r.error().message(), "odd");
    EXPECT_TRUE(check_even(2));
    EXPECT_FALSE(check_even(3));
}

TEST(Result, CorruptNamesTheStructure) {
    Error e = Error::corrupt("ext2fs: superblock", "s_log_block_size 99 is too large");
    EXPECT_EQ(e.errnum(), EIO);
    EXPECT_EQ(e.message(), "ext2fs: superblock: s_log_block_size 99 is too large");
    EXPECT_NE(e.describe().find("Input/output error"), std::string::npos);
    e.context("mount: ");
    EXPECT_EQ(e.message().rfind("mount: ext2fs", 0), 0u);
}

TEST(Checked, OverflowIsAnError) {
    EXPECT_EQ(*checked_add<std::uint32_t>(1, 2), 3u);
    EXPECT_FALSE(checked_add<std::uint32_t>(0xffffffffu, 1));
    EXPECT_FALSE(checked_mul<std::uint64_t>(1ull << 40, 1ull << 40));
    EXPECT_EQ(ceil_div<std::uint32_t>(7, 2), 4u);
    EXPECT_TRUE(range_fits(10, 0, 10));
    EXPECT_FALSE(range_fits(11, 0, 10));
    EXPECT_FALSE(range_fits(5, ~0ull, 10));  // would wrap with off + len > size
}
