// CRC-32C: the SSE4.2 crc32 instruction where the processor has it (x86-64), else table-driven,
// eight bytes per step ("slicing by 8") with tables built at compile time from the reflected
// Castagnoli polynomial. Both are the raw register update.
#include "base/crc32c.hpp"

#include <array>
#include <cstring>

namespace uk {

namespace {

constexpr std::uint32_t polynomial = 0x82F63B78;  // 0x1EDC6F41, bit-reversed

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Tables make_tables() {
    Tables t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) != 0 ? (c >> 1) ^ polynomial : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t s = 1; s < 8; ++s)
        for (std::size_t i = 0; i < 256; ++i)
            t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    return t;
}

constexpr Tables tables = make_tables();

std::uint32_t load_le32(const std::byte* p) {
    return std::to_integer<std::uint32_t>(p[0]) | std::to_integer<std::uint32_t>(p[1]) << 8 |
           std::to_integer<std::uint32_t>(p[2]) << 16 | std::to_integer<std::uint32_t>(p[3]) << 24;
}

std::uint32_t update_by_tables(std::uint32_t crc, std::span<const std::byte> bytes) {
    const std::byte* p = bytes.data();
    std::size_t n = bytes.size();
    while (n >= 8) {
        const std::uint32_t lo = load_le32(p) ^ crc;
        const std::uint32_t hi = load_le32(p + 4);
        crc = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^
              tables[4][lo >> 24] ^ tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^
              tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    for (; n > 0; --n, ++p)
        crc = (crc >> 8) ^ tables[0][(crc ^ std::to_integer<std::uint32_t>(*p)) & 0xFF];
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t
update_by_instruction(std::uint32_t crc, std::span<const std::byte> bytes) {
    const std::byte* p = bytes.data();
    std::size_t n = bytes.size();
    std::uint64_t wide = crc;
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);  // x86 is little-endian, as the CRC's byte order wants
        wide = __builtin_ia32_crc32di(wide, word);
    }
    crc = static_cast<std::uint32_t>(wide);
    for (; n > 0; --n, ++p)
        crc = __builtin_ia32_crc32qi(crc, std::to_integer<unsigned char>(*p));
    return crc;
}

const bool have_instruction = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c_update(std::uint32_t crc, std::span<const std::byte> bytes) {
#if defined(__x86_64__)
    if (have_instruction)
        return update_by_instruction(crc, bytes);
#endif
    return update_by_tables(crc, bytes);
}

namespace detail {
std::uint32_t crc32c_update_by_tables(std::uint32_t crc, std::span<const std::byte> bytes) {
    return update_by_tables(crc, bytes);
}
}  // namespace detail

}  // namespace uk
