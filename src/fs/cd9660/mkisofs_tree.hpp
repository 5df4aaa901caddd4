// The image builder's tree (see mkisofs.hpp): one Node per source entry, plus the nodes deep
// directory relocation adds to the primary tree. Private to mkisofs*.cpp.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace uk::cd9660::mkiso {

using Bytes = std::vector<std::byte>;

struct Su {  // the System Use of one record: the part in the record, then CE areas
    Bytes inline_part;
    std::vector<Bytes> areas;
    std::vector<std::uint64_t> area_pos;  // byte offsets in the continuation region
};

struct Node {
    std::string name;  // host name
    std::string path;  // host path
    Node* parent = nullptr;
    std::vector<std::unique_ptr<Node>> children;  // by host name
    mode_t type = 0;                              // S_IF*
    std::uint32_t mode = 0, uid = 0, gid = 0, nlink = 1;
    std::uint32_t serial = 0;
    std::int64_t mtime = 0;
    std::uint64_t size = 0;
    dev_t rdev = 0;
    std::string target;       // symlink
    Node* owner = nullptr;    // hard links: the node whose extent holds the data
    std::uint32_t links = 1;  // links found in the tree (the owner's count)

    std::string iso_id, jol_id;
    std::vector<Node*> iso_children, jol_children;  // record order
    bool in_joliet = true;
    Su su, su_dot;  // record in the parent; "." of a directory ("..": the parent's su_dot)

    // The primary tree. Deep directory relocation (RRIP 1.12 4.1.5) moves a directory from
    // `parent` to the relocation directory (`iso_parent`), records where it came from
    // (`moved_from`: PL in its "..", RE in its record) and leaves a placeholder file record
    // in the old place (`placeholder_for`: CL to the moved directory). The Joliet tree keeps
    // the source's shape (`parent`, jol_children).
    Node* iso_parent = nullptr;
    Node* moved_from = nullptr;
    Node* placeholder_for = nullptr;
    bool reloc_dir = false;  // the relocation directory itself (hidden by RE, as libisofs does)

    std::uint32_t iso_lba = 0, iso_size = 0, jol_lba = 0, jol_size = 0;
    std::uint64_t data_lba = 0;
    std::uint16_t iso_num = 0, jol_num = 0;  // path table numbers

    bool is_dir() const { return type == S_IFDIR; }
    bool is_reg() const { return type == S_IFREG; }
};

// 9.3 record order of primary identifiers.
bool iso_less(const Node* a, const Node* b);

// ECMA-119 6.8.2.1 allows eight directory levels (the root is the first). Every directory
// deeper than that in the primary tree is moved to a relocation directory in the root
// ("rr_moved", created in `extra` when first needed), with a placeholder left behind; a moved
// directory's subtree is measured again from its new place. Returns the relocation
// directory, or nullptr when nothing was deep. Needs the primary names (iso_id,
// iso_children) set; keeps the record order sorted.
Node* relocate_deep(Node& root, std::vector<std::unique_ptr<Node>>& extra,
                    std::uint32_t& next_serial);

}  // namespace uk::cd9660::mkiso
