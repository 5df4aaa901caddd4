// fsu info: the file system's superblock and geometry, as its driver describes them (the
// fields dumpe2fs -h or fsstat show), after the type and the statfs totals.
#include "fsu.hpp"

#include <algorithm>

namespace fsu {

int cmd_info(Ctx& c, std::vector<std::string>& args) {
    bool json = false;
    Getopt g(args, "", true);
    for (int ch; (ch = g.next()) != -1;) {
        if (ch == 'J') {
            json = true;
        } else {
            fmt::print(stderr, "usage: {} [--json]\n", c.prog);
            return 2;
        }
    }
    if (!g.operands().empty()) {
        fmt::print(stderr, "usage: {} [--json]\n", c.prog);
        return 2;
    }
    auto fields = c.mnt->info();
    if (!fields) {
        c.fail(c.image, fields.error());
        return 1;
    }
    auto st = c.mnt->statfs();
    if (!st) {
        c.fail(c.image, st.error());
        return 1;
    }
    std::vector<std::pair<std::string, std::string>> all = {
        {"type", c.mnt->type()},
        {"fs_block_size", std::to_string(st->block_size)},
        {"fs_blocks", std::to_string(st->blocks)},
        {"fs_blocks_free", std::to_string(st->blocks_free)},
        {"fs_files", std::to_string(st->files)},
        {"fs_files_free", std::to_string(st->files_free)},
    };
    all.insert(all.end(), fields->begin(), fields->end());
    if (json) {
        std::string out = "{";
        for (std::size_t i = 0; i < all.size(); ++i)
            out += fmt::format("{}{}:{}", i ? "," : "", json_string(all[i].first),
                               json_string(all[i].second));
        fmt::print("{}}}\n", out);
        return 0;
    }
    std::size_t width = 0;
    for (const auto& [name, value] : all)
        width = std::max(width, name.size() + 1);
    for (const auto& [name, value] : all)
        fmt::print("{:<{}} {}\n", name + ":", width, value);
    return 0;
}

}  // namespace fsu
