// ISO 9660 on-disk facts (ECMA-119 4th edition; Joliet: Microsoft's Joliet specification;
// SUSP 1.12 / RRIP 1.12 for the System Use entries) and the checked parsing of the two
// structures everything else is made of: volume descriptors and directory records. Private to
// the driver.
//
// Numbers in ISO 9660 are stored "both-endian" (a little-endian copy followed by a big-endian
// one, 7.2.3/7.3.3); we read the little-endian half only, as NetBSD's isonum_733 does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace uk::cd9660 {

inline constexpr std::uint32_t sector_size = 2048;  // the only logical block size we accept
inline constexpr std::uint32_t sector_shift = 11;
inline constexpr std::uint64_t vd_first_lba = 16;   // descriptors start 32 KiB into a session
inline constexpr std::uint32_t max_descriptors = 64;  // a set longer than this is corrupt

// Volume descriptor types (8.1.1).
inline constexpr std::uint8_t vd_boot = 0;
inline constexpr std::uint8_t vd_primary = 1;
inline constexpr std::uint8_t vd_supplementary = 2;
inline constexpr std::uint8_t vd_partition = 3;
inline constexpr std::uint8_t vd_terminator = 255;

// Directory record (9.1): offsets of its fields.
inline constexpr std::size_t dr_length = 0;
inline constexpr std::size_t dr_ext_attr_length = 1;
inline constexpr std::size_t dr_extent = 2;       // 733
inline constexpr std::size_t dr_size = 10;        // 733
inline constexpr std::size_t dr_date = 18;        // 7 bytes
inline constexpr std::size_t dr_flags = 25;
inline constexpr std::size_t dr_unit_size = 26;
inline constexpr std::size_t dr_gap_size = 27;
inline constexpr std::size_t dr_vol_seq = 28;     // 723
inline constexpr std::size_t dr_name_len = 32;
inline constexpr std::size_t dr_name = 33;
inline constexpr std::size_t dr_min_length = 34;  // with a one-byte name

// File flags (9.1.6).
inline constexpr std::uint8_t flag_hidden = 0x01;
inline constexpr std::uint8_t flag_directory = 0x02;
inline constexpr std::uint8_t flag_associated = 0x04;
inline constexpr std::uint8_t flag_multi_extent = 0x80;

// Primary/supplementary volume descriptor fields (8.4, 8.5).
inline constexpr std::size_t vd_flags = 7;              // SVD only: volume flags
inline constexpr std::size_t vd_volume_id = 40;         // 32 bytes
inline constexpr std::size_t vd_space_size = 80;        // 733
inline constexpr std::size_t vd_escapes = 88;           // SVD only: 32 bytes
inline constexpr std::size_t vd_block_size = 128;       // 723
inline constexpr std::size_t vd_root_record = 156;      // 34 bytes

// 7.2.1 / 7.3.1 from bytes (callers checked the bounds).
inline std::uint16_t le16_at(std::span<const std::byte> b, std::size_t off) {
    return static_cast<std::uint16_t>(static_cast<unsigned>(b[off]) |
                                      (static_cast<unsigned>(b[off + 1]) << 8));
}
inline std::uint32_t le32_at(std::span<const std::byte> b, std::size_t off) {
    return static_cast<std::uint32_t>(b[off]) | (static_cast<std::uint32_t>(b[off + 1]) << 8) |
           (static_cast<std::uint32_t>(b[off + 2]) << 16) |
           (static_cast<std::uint32_t>(b[off + 3]) << 24);
}
inline std::uint8_t u8_at(std::span<const std::byte> b, std::size_t off) {
    return static_cast<std::uint8_t>(b[off]);
}
inline std::string_view chars_at(std::span<const std::byte> b, std::size_t off, std::size_t n) {
    return {reinterpret_cast<const char*>(b.data() + off), n};
}

// A directory record, parsed and checked against the space it sits in. `name` and
// `system_use` point into the caller's bytes.
struct Record {
    std::uint8_t length = 0;
    std::uint8_t ext_attr_length = 0;
    std::uint32_t extent = 0;  // logical block of the extended attribute record or the data
    std::uint32_t size = 0;    // data length in bytes
    timespec time{};
    std::uint8_t flags = 0;
    std::uint8_t unit_size = 0, gap_size = 0;  // interleaving (0: none)
    std::span<const std::byte> name;
    std::span<const std::byte> system_use;

    bool is_dir() const { return (flags & flag_directory) != 0; }
    bool is_dot() const { return name.size() == 1 && name[0] == std::byte{0}; }
    bool is_dotdot() const { return name.size() == 1 && name[0] == std::byte{1}; }
    // The first block of data: the extent skips the extended attribute record.
    std::uint64_t data_lba() const { return std::uint64_t{extent} + ext_attr_length; }
};

// Parse the record at the start of `bytes` (which runs to the end of its sector). `where`
// names it for messages. Checks: length at least 34 and within `bytes`, name within it.
Result<Record> parse_record(std::span<const std::byte> bytes, std::string_view where);

// 9.1.5: seven bytes (years since 1900, month, day, hour, minute, second, offset from GMT in
// 15-minute units) -> UTC. An all-zero or impossible date gives the epoch.
timespec time7(std::span<const std::byte> b);
// 8.4.26.1: "YYYYMMDDHHMMSScc" and an offset byte -> UTC (hundredths as nanoseconds).
timespec time17(std::span<const std::byte> b);

// Byte address of a block, and a check that [lba, lba + blocks) is inside `total` blocks.
inline std::uint64_t lba_to_byte(std::uint64_t lba) { return lba << sector_shift; }
inline std::uint64_t blocks_for(std::uint64_t bytes) {
    return (bytes + sector_size - 1) >> sector_shift;
}

}  // namespace uk::cd9660
