// IsoFs::info: the volume descriptors as read (the last session's), and which directory tree
// the mount shows.
#include <fmt/format.h>

#include "fs/cd9660/fs.hpp"

namespace uk::cd9660 {

Result<std::vector<vfs::InfoField>> IsoFs::info() {
    std::vector<vfs::InfoField> f;
    auto add = [&](std::string name, std::string value) {
        f.push_back({std::move(name), std::move(value)});
    };
    add("volume_id", m_vol.volume_id);
    add("logical_block_size", "2048");
    add("volume_space_size", std::to_string(m_vol.space_size));
    add("sessions", std::to_string(m_vol.sessions));
    add("session_start", std::to_string(m_vol.session_lba));
    add("joliet", m_vol.joliet_level != 0 ? fmt::format("level {}", m_vol.joliet_level) : "no");
    add("tree", m_tree == Tree::rrip     ? "Rock Ridge"
                : m_tree == Tree::joliet ? "Joliet"
                                         : "ISO 9660");
    return f;
}

}  // namespace uk::cd9660
