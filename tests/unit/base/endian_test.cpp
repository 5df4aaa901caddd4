#include "base/endian.hpp"

#include <cstring>

#include <gtest/gtest.h>

using namespace uk;

TEST(Endian, PackedFieldsHaveTheirByteOrder) {
    const std::uint8_t bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    le32 l;
    be32 b;
    le64 l64;
    be16 b16;
    std::memcpy(&l, bytes, 4);
    std::memcpy(&b, bytes, 4);
    std::memcpy(&l64, bytes, 8);
    std::memcpy(&b16, bytes, 2);
    EXPECT_EQ(l.get(), 0x04030201u);
    EXPECT_EQ(b.get(), 0x01020304u);
    EXPECT_EQ(l64.get(), 0x0807060504030201ull);
    EXPECT_EQ(b16.get(), 0x0102u);
    b.set(0xa0b0c0d0);
    std::uint8_t out[4];
    std::memcpy(out, &b, 4);
    EXPECT_EQ(out[0], 0xa0);
    EXPECT_EQ(out[3], 0xd0);
}

TEST(Endian, RunTimeOrder) {
    Raw32 r;
    const std::uint8_t bytes[4] = {0, 0, 0x01, 0x54};  // 0x0154 big-endian
    std::memcpy(r.bytes, bytes, 4);
    EXPECT_EQ(Order(std::endian::big).u32(r), 0x154u);
    EXPECT_EQ(Order(std::endian::little).u32(r), 0x54010000u);
    Order big(std::endian::big);
    EXPECT_EQ(big.endian(), std::endian::big);
    EXPECT_EQ(Order(std::endian::little).endian(), std::endian::little);
    big.set(r, 0x11223344u);
    EXPECT_EQ(r.bytes[0], 0x11);
}
