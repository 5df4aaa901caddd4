// Building an ISO 9660 image from a host directory tree: a primary tree with Rock Ridge
// (RRIP 1.12 entries, announced as "RRIP_1991A") and a Joliet tree sharing the file extents,
// as `xorriso -as mkisofs -R -J` and `makefs -t cd9660 -o rockridge` make them. Called by the
// api layer (uk::make_iso); nothing else in the driver depends on it.
//
// Notes:
// - The output is a function of the source tree and the options only: entries are sorted,
//   times come from the source (clamped to clamp_time), volume times from the options, and
//   every byte of the image is written (zeros where nothing else is). Only modification
//   times are recorded: reading the tree changes access times, copying it change times.
// - File data is streamed in chunks; only the tree's metadata is held in memory. Holes of a
//   sparse source file are not read and stay holes in the image.
// - Primary names are ISO 9660 level 2 (d-characters, at most 30 for name and extension,
//   31 for a directory, ";1" versions), unique within a directory after mangling. Joliet
//   names are UCS-2 (UTF-16 surrogates for characters beyond it), at most 64 units.
// - With Rock Ridge, directories deeper than ISO 9660's eight levels are moved to "rr_moved"
//   in the primary tree (RRIP CL, PL and RE, as xorriso -rr_reloc_dir and makefs do); the
//   Rock Ridge and Joliet views keep the source's shape.
// - Files of 4 GiB and more are written as multi-extent files (9.1.6 bit 7).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace uk::cd9660 {

struct BuildOptions {
    std::string volume_id = "CDROM";  // mapped to d-characters for the primary descriptor
    bool rock_ridge = true;
    bool joliet = true;
    // Owner and mode mapping for images built without privilege.
    std::optional<std::uint32_t> uid, gid;
    std::optional<std::uint32_t> file_mode, dir_mode;  // permission bits (07777)
    // mkisofs -r: owner 0:0, everything readable, execute for all where any, no write bits.
    bool rational = false;
    // Volume creation and modification time (seconds since the epoch); when not given, the
    // newest time recorded for any file.
    std::optional<std::int64_t> volume_time;
    // Times later than this are recorded as this (SOURCE_DATE_EPOCH).
    std::optional<std::int64_t> clamp_time;
};

// Build `image` (created or truncated) from the tree at `source_dir`. Symlinks are stored,
// never followed.
Result<void> build_image(const std::string& source_dir, const std::string& image,
                         const BuildOptions& options);

// Name rules, exposed for tests. `taken` holds the names already given in the directory (as
// the reader shows them: "NAME.EXT" or "NAME"); the result is added to it.
// Primary identifier of a file ("NAME.EXT;1") or directory ("NAME").
std::string iso_identifier(std::string_view host_name, bool is_dir,
                           std::set<std::string>& taken);
// Joliet identifier (UCS-2 big-endian bytes), files with ";1".
std::string joliet_identifier(std::string_view host_name, bool is_dir,
                              std::set<std::string>& taken);

}  // namespace uk::cd9660
