// du: the blocks a tree in the image holds.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <memory>
#include <set>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>


#include "fsu.hpp"

namespace fsu {
// ---- du ------------------------------------------------------------------------------------

namespace {

struct DuOpts {
    bool all = false, summary = false, human = false, total = false;
    int max_depth = -1;
    std::uint64_t unit = 1024;
    std::set<std::pair<std::uint64_t, std::uint64_t>> seen;  // (dev, ino) of hard links
};

std::string du_size(const DuOpts& o, std::uint64_t blocks512) {
    std::uint64_t bytes = blocks512 * 512;
    if (!o.human)
        return std::to_string((bytes + o.unit - 1) / o.unit);
    const char* units = "BKMGTPE";
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        ++u;
    }
    if (u == 0)
        return std::to_string(bytes);
    if (v < 10)
        return fmt::format("{:.1f}{}", std::ceil(v * 10) / 10, units[u]);
    return fmt::format("{:.0f}{}", std::ceil(v), units[u]);
}

std::uint64_t du_walk(Ctx& c, DuOpts& o, const std::string& path, const struct stat& st, int depth) {
    std::uint64_t sum = static_cast<std::uint64_t>(st.st_blocks);
    if (S_ISDIR(st.st_mode)) {
        auto list = c.mnt->list(path);
        if (!list) {
            c.fail(path, list.error());
        } else {
            for (const uk::DirEntry& e : *list) {
                if (e.name == "." || e.name == "..")
                    continue;
                std::string p = join(path, e.name);
                if (bad_name(e.name)) {
                    c.warnx("{}: bad name in directory", p);
                    continue;
                }
                auto cst = c.mnt->stat(p, uk::Follow::no);
                if (!cst) {
                    c.fail(p, cst.error());
                    continue;
                }
                sum += du_walk(c, o, p, *cst, depth + 1);
            }
        }
    } else if (st.st_nlink > 1 && !o.seen.insert({st.st_dev, st.st_ino}).second) {
        return 0;
    }
    bool show = depth == 0 || (!o.summary && (S_ISDIR(st.st_mode) || o.all) &&
                               (o.max_depth < 0 || depth <= o.max_depth));
    if (show)
        fmt::print("{}\t{}\n", du_size(o, sum), path);
    return sum;
}

}  // namespace

int cmd_du(Ctx& c, std::vector<std::string>& args) {
    DuOpts o;
    if (const char* bs = std::getenv("BLOCKSIZE")) {
        std::uint64_t v = std::strtoull(bs, nullptr, 10);
        if (std::strchr(bs, 'k') || std::strchr(bs, 'K'))
            v = (v ? v : 1) * 1024;
        else if (std::strchr(bs, 'm') || std::strchr(bs, 'M'))
            v = (v ? v : 1) << 20;
        if (v >= 512 && v <= (1ULL << 30))
            o.unit = v;
    }
    Getopt g(args, "aschkmd:HLPx");
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case 'a': o.all = true; break;
        case 's': o.summary = true; break;
        case 'c': o.total = true; break;
        case 'h': o.human = true; break;
        case 'k': o.unit = 1024; break;
        case 'm': o.unit = 1 << 20; break;
        case 'd': o.max_depth = std::atoi(g.arg()); break;
        case 'H': case 'L': case 'P': case 'x': break;
        default: fmt::print(stderr, "usage: {} [-achkmsx] [-d depth] [file ...]\n", c.prog); return 2;
        }
    }
    auto ops = g.operands();
    if (ops.empty())
        ops.push_back(".");
    std::uint64_t total = 0;
    for (const std::string& p : ops) {
        auto st = c.mnt->stat(p, uk::Follow::no);
        if (!st) {
            c.fail(p, st.error());
            continue;
        }
        total += du_walk(c, o, p, *st, 0);
    }
    if (o.total)
        fmt::print("{}\ttotal\n", du_size(o, total));
    return c.status;
}

}  // namespace fsu
