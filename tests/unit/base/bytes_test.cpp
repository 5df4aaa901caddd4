#include "base/bytes.hpp"
#include "base/endian.hpp"

#include <array>

#include <gtest/gtest.h>

using namespace uk;

namespace {
struct Header {
    le32 inode;
    le16 rec_len;
    std::uint8_t name_len, file_type;
};
static_assert(sizeof(Header) == 8);
}  // namespace

TEST(ByteView, ReadsByValueWithinBounds) {
    std::array<std::uint8_t, 10> raw{0x02, 0, 0, 0, 0x0c, 0, 1, 2, 0xff, 0xff};
    ByteView v(raw.data(), raw.size(), "directory block");
    auto h = v.read<Header>(0);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->inode.get(), 2u);
    EXPECT_EQ(h->rec_len.get(), 12u);
    EXPECT_EQ(h->name_len, 1);
    EXPECT_TRUE(v.read<Header>(2));
    auto bad = v.read<Header>(3);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().errnum(), EIO);
    EXPECT_NE(bad.error().message().find("directory block"), std::string::npos);
    EXPECT_FALSE(v.read<Header>(~0ull - 2));
    EXPECT_FALSE(v.sub(8, 3));
    EXPECT_EQ(v.sub(8, 2)->size(), 2u);
}

TEST(ByteWriter, WritesWithinBounds) {
    std::array<std::byte, 4> raw{};
    ByteWriter w(raw, "buffer");
    be32 v;
    v.set(0x01020304);
    ASSERT_TRUE(w.write(0, v));
    EXPECT_EQ(raw[0], std::byte{1});
    EXPECT_EQ(raw[3], std::byte{4});
    EXPECT_FALSE(w.write(1, v));
}
