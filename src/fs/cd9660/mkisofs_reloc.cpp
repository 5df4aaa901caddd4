// Deep directory relocation for the image builder (see mkisofs_tree.hpp). Facts: ECMA-119
// 6.8.2.1 (eight levels), RRIP 1.12 4.1.5 (CL, PL, RE). As libisofs does it: the relocation
// directory is a child of the root named "rr_moved", carrying RE itself so that Rock Ridge
// readers hide it; directories are moved when their level would exceed eight.
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "fs/cd9660/mkisofs.hpp"
#include "fs/cd9660/mkisofs_tree.hpp"

namespace uk::cd9660::mkiso {

namespace {

constexpr int max_levels = 8;

// The identifier as the reader shows it (no ";1" version), for the taken sets.
std::string shown(const std::string& iso_id) {
    return iso_id.substr(0, iso_id.find(';'));
}

Node* make_reloc_dir(Node& root, std::vector<std::unique_ptr<Node>>& extra,
                     std::uint32_t& next_serial) {
    auto d = std::make_unique<Node>();
    d->name = "rr_moved";
    for (int k = 1; std::any_of(root.iso_children.begin(), root.iso_children.end(),
                                [&](const Node* c) { return c->name == d->name; });
         ++k)
        d->name = "rr_moved_" + std::to_string(k);
    std::set<std::string> taken;
    for (const Node* c : root.iso_children)
        taken.insert(shown(c->iso_id));
    d->iso_id = iso_identifier(d->name, true, taken);
    d->type = S_IFDIR;
    d->mode = root.mode;
    d->uid = root.uid;
    d->gid = root.gid;
    d->mtime = root.mtime;
    d->serial = next_serial++;
    d->links = 2;
    d->parent = d->iso_parent = &root;
    d->in_joliet = false;
    d->reloc_dir = true;
    root.iso_children.push_back(d.get());
    std::sort(root.iso_children.begin(), root.iso_children.end(), iso_less);
    ++root.links;
    extra.push_back(std::move(d));
    return extra.back().get();
}

}  // namespace

Node* relocate_deep(Node& root, std::vector<std::unique_ptr<Node>>& extra,
                    std::uint32_t& next_serial) {
    Node* moved = nullptr;
    std::set<std::string> moved_taken;
    std::vector<std::pair<Node*, int>> todo{{&root, 1}};
    for (std::size_t i = 0; i < todo.size(); ++i) {
        const auto [d, level] = todo[i];
        for (Node*& slot : d->iso_children) {
            Node* c = slot;
            if (!c->is_dir() || c->reloc_dir)
                continue;
            if (level < max_levels) {
                todo.emplace_back(c, level + 1);
                continue;
            }
            if (moved == nullptr)
                moved = make_reloc_dir(root, extra, next_serial);
            auto ph = std::make_unique<Node>();
            ph->name = c->name;
            ph->iso_id = c->iso_id;
            ph->type = S_IFREG;
            ph->mtime = c->mtime;
            ph->parent = ph->iso_parent = d;
            ph->in_joliet = false;
            ph->placeholder_for = c;
            slot = ph.get();  // same identifier: the record order stays sorted
            extra.push_back(std::move(ph));
            c->moved_from = d;
            c->iso_parent = moved;
            c->iso_id = iso_identifier(c->name, true, moved_taken);
            moved->iso_children.push_back(c);
            ++moved->links;
            todo.emplace_back(c, 3);  // the relocation directory is at level 2
        }
    }
    if (moved != nullptr)
        std::sort(moved->iso_children.begin(), moved->iso_children.end(), iso_less);
    return moved;
}

}  // namespace uk::cd9660::mkiso
