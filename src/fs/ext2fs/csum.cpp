// Metadata checksums (see csum.hpp).
#include "fs/ext2fs/csum.hpp"

#include <array>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "base/crc32c.hpp"
#include "base/endian.hpp"

namespace uk::ext2fs {

namespace {

constexpr std::array<std::uint16_t, 256> make_crc16_table() {
    std::array<std::uint16_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) != 0 ? (c >> 1) ^ 0xA001 : c >> 1;
        t[i] = static_cast<std::uint16_t>(c);
    }
    return t;
}

constexpr std::array<std::uint16_t, 256> crc16_table = make_crc16_table();

std::span<const std::byte> le32_bytes(le32& v, std::uint32_t value) {
    v.set(value);
    return std::as_bytes(std::span(&v, 1));
}

}  // namespace

std::uint16_t crc16(std::uint16_t crc, std::span<const std::byte> bytes) {
    for (std::byte b : bytes)
        crc = static_cast<std::uint16_t>((crc >> 8) ^
                                         crc16_table[(crc ^ std::to_integer<unsigned>(b)) & 0xFF]);
    return crc;
}

std::uint32_t inode_csum_seed(const Geometry& g, std::uint32_t ino, std::uint32_t generation) {
    le32 v;
    std::uint32_t c = crc32c_update(g.csum_seed, le32_bytes(v, ino));
    return crc32c_update(c, le32_bytes(v, generation));
}

std::uint16_t group_desc_checksum(const Geometry& g, std::uint32_t group,
                                  std::span<const std::byte> desc) {
    constexpr std::size_t at = offsetof(GroupDesc, bg_checksum);
    constexpr std::byte zero[2]{};
    le32 v;
    if (g.metadata_csum()) {
        std::uint32_t c = crc32c_update(g.csum_seed, le32_bytes(v, group));
        c = crc32c_update(c, desc.first(at));
        c = crc32c_update(c, zero);
        c = crc32c_update(c, desc.subspan(at + 2));
        return static_cast<std::uint16_t>(c & 0xFFFF);
    }
    std::uint16_t c = crc16(0xFFFF, std::as_bytes(std::span(g.uuid)));
    c = crc16(c, le32_bytes(v, group));
    c = crc16(c, desc.first(at));
    if (g.has_incompat(incompat_64bit) && desc.size() > at + 2)
        c = crc16(c, desc.subspan(at + 2));
    return c;
}

std::uint32_t inode_checksum(const Geometry& g, std::uint32_t ino, std::uint32_t generation,
                             std::span<const std::byte> raw, bool with_hi) {
    std::vector<std::byte> copy(raw.begin(), raw.end());
    std::memset(copy.data() + offsetof(Inode, l_i_checksum_lo), 0, 2);
    if (with_hi)
        std::memset(copy.data() + offsetof(Inode, i_checksum_hi), 0, 2);
    return crc32c_update(inode_csum_seed(g, ino, generation), copy);
}

Result<void> check_csum(std::uint32_t stored, std::uint32_t computed, std::string_view what) {
    if (stored == computed)
        return {};
    return Error::corrupt(what, fmt::format("checksum mismatch (stored {:#x}, computed {:#x})",
                                            stored, computed));
}

}  // namespace uk::ext2fs
