// The directory hashes of hash tree (dir_index) directories: legacy, half_md4 and tea, each
// reading name bytes signed or unsigned. Private to the driver. Facts: kernel ext4
// directory.rst ("Hash Tree Directories") and the hash definitions e2fsprogs and the kernel
// share (the half-MD4 rounds, TEA's 16 rounds, the name-to-words padding).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace uk::ext2fs {

struct DxHashValue {
    std::uint32_t hash = 0;   // the major hash, bit 0 clear
    std::uint32_t minor = 0;  // unused by the index, kept for tests against e2fsprogs
};

// `version` is a DxRootInfo hash_version plus dx_hash_unsigned_delta for unsigned bytes
// (0..5); any other value is the caller's error (return {0, 0}). A zero seed means the
// default one.
DxHashValue dx_hash(std::uint8_t version, const std::array<std::uint32_t, 4>& seed,
                    std::string_view name);

// Whether `version` (0..5 as above) names a hash dx_hash computes.
constexpr bool dx_hash_known(std::uint8_t version) {
    return version <= 5;
}

}  // namespace uk::ext2fs
