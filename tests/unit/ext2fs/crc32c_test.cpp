// CRC-32C and CRC-16 table tests: published check values and ext4's seeded use.
#include <cstring>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "base/crc32c.hpp"
#include "fs/ext2fs/csum.hpp"

namespace {

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span(s));
}

struct Crc32cCase {
    std::string_view input;
    std::uint32_t crc;
};

// Check values: the CRC catalogue ("123456789"), RFC 3720 appendix B.4 (32 zero bytes,
// 32 bytes of 0xFF, an ascending run).
TEST(Crc32c, KnownValues) {
    const Crc32cCase cases[] = {
        {"", 0x00000000},
        {"a", 0xC1D04330},
        {"123456789", 0xE3069283},
        {"The quick brown fox jumps over the lazy dog", 0x22620404},
    };
    for (const auto& c : cases)
        EXPECT_EQ(uk::crc32c(bytes(c.input)), c.crc) << "input: " << c.input;
    std::byte zeros[32]{}, ones[32], ascending[32];
    std::memset(ones, 0xFF, sizeof ones);
    for (int i = 0; i < 32; ++i)
        ascending[i] = std::byte(i);
    EXPECT_EQ(uk::crc32c(zeros), 0x8A9136AAu);
    EXPECT_EQ(uk::crc32c(ones), 0x62A8AB43u);
    EXPECT_EQ(uk::crc32c(ascending), 0x46DD794Eu);
}

// The processor's instruction (where crc32c_update uses it) and the tables agree, for every
// length and alignment.
TEST(Crc32c, InstructionMatchesTables) {
    std::vector<std::byte> data(300);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = std::byte(static_cast<unsigned char>(i * 131 + 7));
    for (std::size_t from = 0; from < 9; ++from)
        for (std::size_t len = 0; from + len <= data.size(); len += 7) {
            const auto part = std::span<const std::byte>(data).subspan(from, len);
            EXPECT_EQ(uk::crc32c_update(0x12345678, part),
                      uk::detail::crc32c_update_by_tables(0x12345678, part))
                << from << "+" << len;
        }
}

// Splitting the input anywhere gives the same register (the slicing path and the byte path).
TEST(Crc32c, IncrementalMatchesWhole) {
    const std::string_view text = "ext4 metadata checksums are crc32c over each structure";
    const std::uint32_t whole = uk::crc32c_update(~0u, bytes(text));
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        std::uint32_t c = uk::crc32c_update(~0u, bytes(text.substr(0, cut)));
        c = uk::crc32c_update(c, bytes(text.substr(cut)));
        EXPECT_EQ(c, whole) << "cut at " << cut;
    }
}

// CRC-16/ARC (reflected 0x8005, init 0): "123456789" -> 0xBB3D. With init 0xFFFF and no final
// xor it is CRC-16/MODBUS: 0x4B37.
TEST(Crc16, KnownValues) {
    EXPECT_EQ(uk::ext2fs::crc16(0, bytes("123456789")), 0xBB3D);
    EXPECT_EQ(uk::ext2fs::crc16(0xFFFF, bytes("123456789")), 0x4B37);
}

}  // namespace
