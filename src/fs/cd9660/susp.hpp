// System Use Sharing Protocol (SUSP 1.12) and Rock Ridge (RRIP 1.12) entries of one directory
// record: the record's System Use area and the continuation areas (CE) it chains to. Private
// to the driver.
//
// Bounds: a chain follows at most max_continuations CE entries and reads at most
// max_susp_bytes in all; a continuation area met twice is a loop. Each is an error naming the
// record, never a hang. A name (NM) is at most 255 bytes and a symlink target (SL) at most
// 4095: longer ones are errors.
#pragma once

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "io/cache/buffer_cache.hpp"

namespace uk::cd9660 {

inline constexpr int max_continuations = 32;
inline constexpr std::size_t max_susp_bytes = 64 * 1024;
inline constexpr std::size_t max_rr_name = 255;
inline constexpr std::size_t max_rr_symlink = 4095;

// TF flags (RRIP 4.1.6).
inline constexpr std::uint8_t tf_creation = 0x01;
inline constexpr std::uint8_t tf_modify = 0x02;
inline constexpr std::uint8_t tf_access = 0x04;
inline constexpr std::uint8_t tf_attributes = 0x08;
inline constexpr std::uint8_t tf_long_form = 0x80;

struct RockRidge {
    bool sp = false;               // an SP entry (only meaningful in the root's "." record)
    std::uint8_t sp_skip = 0;      // its LEN_SKP
    std::vector<std::string> er;   // extension identifiers (ER)
    bool any_rr = false;           // any RRIP entry (PX, NM, SL, TF, PN, CL, PL, RE, RR)

    bool px = false;
    std::uint32_t mode = 0, nlink = 0, uid = 0, gid = 0;
    bool pn = false;
    std::uint32_t dev_high = 0, dev_low = 0;
    bool nm = false;
    bool nm_current = false, nm_parent = false;
    std::string name;
    bool sl = false;
    std::string symlink;
    bool cl = false, pl = false, re = false;
    std::uint32_t cl_lba = 0, pl_lba = 0;
    std::uint8_t tf = 0;           // which of the times below were given (tf_* bits)
    timespec birthtime{}, mtime{}, atime{}, ctime{};
};

// Parse the System Use area `su` of a record (skipping `skip` bytes first, SP's LEN_SKP) and
// its continuation chain, read through `cache` (2048-byte blocks). `where` names the record.
Result<RockRidge> parse_susp(io::BufferCache& cache, std::span<const std::byte> su,
                             std::size_t skip, std::string_view where);

// Whether an extension identifier is Rock Ridge's.
bool is_rrip_id(std::string_view id);

}  // namespace uk::cd9660
