// Partition selectors: the text at the end of a device path that picks a part of the device
// ("disk.img%DISKLABEL:e%", "disk.img%OFFSET:1048576,4194304%", "disk.img%GPT:name=root%").
// Syntax and errno values follow NetBSD's libukfs (lib/libukfs/ukfs.c, ukfs_part_probe); the
// MBR and GPT forms are ours. docs/partitions.md has the table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.hpp"

namespace uk::io {

// No selector: the whole device.
struct WholeDevice {
    bool operator==(const WholeDevice&) const = default;
};

// %DISKLABEL:x%: partition x ('a'..'v') of a BSD disklabel.
struct DisklabelSelector {
    char letter = 'a';
    bool operator==(const DisklabelSelector&) const = default;
};

// %OFFSET:start,size%: a byte range. size 0 means "to the end of the device".
struct OffsetSelector {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    bool operator==(const OffsetSelector&) const = default;
};

// %MBR:n%: MBR partition n, numbered as Linux does: 1-4 primary, 5 and up logical.
struct MbrSelector {
    std::uint32_t number = 1;
    bool operator==(const MbrSelector&) const = default;
};

// %GPT:n%: GPT partition entry n, from 1.
struct GptSelector {
    std::uint32_t number = 1;
    bool operator==(const GptSelector&) const = default;
};

// %GPT:name=LABEL%: the GPT partition whose name is LABEL (exact, UTF-8).
struct GptNameSelector {
    std::string name;
    bool operator==(const GptNameSelector&) const = default;
};

using PartSpec = std::variant<WholeDevice, DisklabelSelector, OffsetSelector, MbrSelector,
                              GptSelector, GptNameSelector>;

// The selector magics (include/ukfs/ukfs.h spells the NetBSD ones the same way).
inline constexpr std::string_view part_scanmagic = "%PART:";  // deprecated, refused
inline constexpr std::string_view disklabel_scanmagic = "%DISKLABEL:";
inline constexpr std::string_view offset_scanmagic = "%OFFSET:";
inline constexpr std::string_view mbr_scanmagic = "%MBR:";
inline constexpr std::string_view gpt_scanmagic = "%GPT:";
inline constexpr std::string_view gpt_name_prefix = "name=";

// Partition letters: 'a' up to 'a' + 22 - 1 = 'v' (NetBSD MAXMAXPARTITIONS, sys/disklabel.h).
inline constexpr std::size_t disklabel_max_partitions = 22;

// Parse the selector at the end of `devpath`. Returns WholeDevice when there is none. When
// `cut_at` is given it receives the length of the path without the selector (devpath.size()
// when there is no selector). The string itself is not changed. Errors (errno):
//   ENODEV         "%PART:" anywhere (NetBSD: deprecated)
//   EINVAL         malformed selector: missing ',' or closing '%', text after it, a bad letter,
//                  an MBR/GPT number that is not a number or is 0, an empty GPT name
//   ERANGE         a negative number, or one too large (offsets must fit in off_t)
//   EADDRNOTAVAIL  garbage in an %OFFSET number (NetBSD's choice)
Result<PartSpec> parse_selector(std::string_view devpath, std::size_t* cut_at = nullptr);

// The selector's text, as parse_selector reads it back ("" for WholeDevice).
std::string to_string(const PartSpec& spec);

}  // namespace uk::io
