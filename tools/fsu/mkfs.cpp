// fsu mkfs and fsu fsck: making and checking a file system, through uk::mkfs and uk::fsck.
// Neither mounts anything, so fsu_main runs them before opening an image.
#include "fsu.hpp"

namespace fsu {

namespace {

// "a=1,b=2" appended to `params`; false on a word without '='.
bool split_params(std::string_view s, std::vector<std::pair<std::string, std::string>>& params) {
    while (!s.empty()) {
        const std::size_t comma = s.find(',');
        const std::string_view word = s.substr(0, comma);
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
        const std::size_t eq = word.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return false;
        params.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    }
    return true;
}

}  // namespace

const char* const mkfs_usage =
    "-t TYPE [-s SIZE] [-L label] [-o key=value,...] IMAGE   (no mount) make an empty\n"
    "           file system; the image file is created, or set to SIZE bytes (k, m, g, t).\n"
    "           Types and keys: msdos: fat=12|16|32, cluster_size, sector_size, fats,\n"
    "           root_entries, label, volume_id. ext2fs: fstype=ext2|ext3|ext4 (ext4),\n"
    "           blocksize, inode_size, inode_ratio, features=feat:^feat (mke2fs -O),\n"
    "           journal_size (MiB), journal_blocks, label, uuid, hash_seed, time, seed,\n"
    "           reserved_ratio (percent). ffs: version=1|2, endian=le|be, bsize, fsize,\n"
    "           density, minfree, optimization=time|space, label, time, seed.";

const char* const fsck_usage =
    "[-t TYPE] IMAGE   (no mount, never writes) check the file system with the type's\n"
    "           checker (ffs); the exit status is the checker's (0 clean, 8 problems found).";

int cmd_mkfs(Ctx& c, std::vector<std::string>& args) {
    std::string type, size_arg;
    uk::MkfsOptions o;
    auto usage = [&] {
        fmt::print(stderr, "usage: {} {}\n", c.prog, mkfs_usage);
        return 2;
    };
    Getopt g(args, "t:s:L:o:");
    for (int opt; (opt = g.next()) != -1;) {
        switch (opt) {
        case 't': type = g.arg(); break;
        case 's': size_arg = g.arg(); break;
        case 'L': o.params.emplace_back("label", g.arg()); break;
        case 'o':
            if (!split_params(g.arg(), o.params)) {
                c.warnx("-o {}: expected key=value words separated by commas", g.arg());
                return 2;
            }
            break;
        default: return usage();
        }
    }
    const std::vector<std::string> ops = g.operands();
    if (type.empty() || ops.size() != 1)
        return usage();
    if (!size_arg.empty()) {
        const auto n = parse_size(size_arg);
        if (!n || *n == 0) {
            c.warnx("-s {}: not a size", size_arg);
            return 2;
        }
        o.size = *n;
    }
    if (auto r = uk::mkfs(type, ops[0], o); !r) {
        c.fail(ops[0], r.error());
        return 1;
    }
    return 0;
}

int cmd_fsck(Ctx& c, std::vector<std::string>& args) {
    std::string type;
    Getopt g(args, "t:n");
    for (int opt; (opt = g.next()) != -1;) {
        switch (opt) {
        case 't': type = g.arg(); break;
        case 'n': break;  // checking never writes: -n is what it always does
        default: fmt::print(stderr, "usage: {} {}\n", c.prog, fsck_usage); return 2;
        }
    }
    const std::vector<std::string> ops = g.operands();
    if (ops.size() != 1) {
        fmt::print(stderr, "usage: {} {}\n", c.prog, fsck_usage);
        return 2;
    }
    auto r = uk::fsck(ops[0], type, [](std::string_view line) { fmt::print("{}\n", line); });
    if (!r) {
        c.fail(ops[0], r.error());
        return 8;  // fsck's "operational error"
    }
    return *r;
}

}  // namespace fsu
