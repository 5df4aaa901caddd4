// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as ext4, btrfs and iSCSI use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace uk {

// The raw register update: no inversion in or out. ext4's checksums are
// crc32c_update(seed, bytes) with seed ~0 or a per-structure seed, stored as is.
std::uint32_t crc32c_update(std::uint32_t crc, std::span<const std::byte> bytes);

namespace detail {
// The portable path alone (crc32c_update uses the processor's instruction where it has one),
// for tests that compare the two.
std::uint32_t crc32c_update_by_tables(std::uint32_t crc, std::span<const std::byte> bytes);
}  // namespace detail

// The standard CRC-32C of `bytes` (initial ~0, final inversion): "123456789" -> 0xE3069283.
inline std::uint32_t crc32c(std::span<const std::byte> bytes) {
    return ~crc32c_update(~std::uint32_t{0}, bytes);
}

}  // namespace uk
