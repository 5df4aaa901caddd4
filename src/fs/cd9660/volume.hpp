// Volume descriptors and sessions: which descriptor set a mount uses. Private to the driver.
//
// Finding the last session. On a disc, a reader takes the last session's start from the table
// of contents and reads the descriptor set 16 blocks into it. An image file has no table of
// contents, so we follow the sessions one after the other:
//  - The set at block 16 comes first. xorriso appending to an image in place (`-dev IMG ...
//    -commit`, growisofs' way for overwritable media) writes the new session after the old one
//    and then rewrites the set at block 16 to describe the newest tree, its volume space size
//    covering every session: that set already is the last one.
//  - `xorriso -as mkisofs -C START,NEXT -M OLD` writes a session meant to be placed at block
//    NEXT (NEXT is the old session's end, rounded up to 32 blocks by xorriso's -msinfo), its
//    descriptors at NEXT + 16 and its addresses absolute; the set at block 16 is left alone.
//    So after a session that starts at S and whose volume space size is V (absolute, as
//    ECMA-119 means it, or counted from S, as libisofs writes it for appended sessions), we
//    look for a next set at candidate starts N from the session's end: N in [V, V + window)
//    and [S + V, S + V + window) (window: session_gap_window blocks), N > S. A candidate must
//    be a whole valid set (primary descriptor, terminator, 2048-byte blocks) whose root
//    directory lies at or after N + 16: an ISO image stored as a file inside a session has
//    its root near its own start, so it is not taken for a session.
//  - At most max_sessions sessions are followed; each step moves forward, so this ends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "io/block_device.hpp"

namespace uk::cd9660 {

inline constexpr std::uint64_t session_gap_window = 1024;  // blocks searched after a session
inline constexpr int max_sessions = 256;

struct Descriptors {
    std::uint64_t session_lba = 0;  // the session's first block (the set is 16 blocks in)
    std::uint32_t space_size = 0;   // the primary descriptor's volume space size (blocks)
    std::string volume_id;
    std::vector<std::byte> root;    // the primary descriptor's 34-byte root record
    int joliet_level = 0;           // 0: no Joliet supplementary descriptor
    std::vector<std::byte> joliet_root;
    int sessions = 1;               // how many sessions were followed to get here
};

// The descriptor set of the session starting at `session_lba`.
Result<Descriptors> read_descriptor_set(io::BlockDevice& dev, std::uint64_t session_lba);
// The last session's descriptor set (see above).
Result<Descriptors> read_last_session(io::BlockDevice& dev);
// Whether "CD001" is where the first descriptor of a session at block 0 would be.
bool has_iso_signature(io::BlockDevice& dev);

}  // namespace uk::cd9660
