// The commands that change the image: mkdir, rmdir, rm, mv, ln, chmod, chown, chflags, touch,
// mknod, mkfifo.
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <sys/sysmacros.h>

#include "fsu.hpp"

namespace fsu {
namespace {

bool usage(Ctx& c, const char* line) {
    fmt::print(stderr, "usage: {} {}\n", c.prog, line);
    return false;
}

// Apply fn to path and, with recurse, to everything below it (a directory's children first is
// not needed: these commands change attributes only).
void walk_tree(Ctx& c, const std::string& path, bool recurse, bool follow_top,
               const std::function<void(const std::string&, const struct stat&, bool top)>& fn,
               bool top = true) {
    auto st = c.mnt->stat(path, top && follow_top ? uk::Follow::yes : uk::Follow::no);
    if (!st) {
        c.fail(path, st.error());
        return;
    }
    fn(path, *st, top);
    if (!recurse || !S_ISDIR(st->st_mode))
        return;
    auto list = c.mnt->list(path);
    if (!list) {
        c.fail(path, list.error());
        return;
    }
    for (const uk::DirEntry& e : *list) {
        if (e.name == "." || e.name == "..")
            continue;
        if (bad_name(e.name)) {
            c.warnx("{}: bad name in directory", join(path, e.name));
            continue;
        }
        walk_tree(c, join(path, e.name), true, false, fn, false);
    }
}

std::optional<mode_t> parse_octal_mode(Ctx& c, const char* s) {
    auto m = apply_mode(s, 0777, false);
    if (!m)
        c.warnx("invalid file mode: {}", s);
    return m;
}

}  // namespace

int cmd_mkdir(Ctx& c, std::vector<std::string>& args) {
    bool parents = false;
    mode_t mode = 0755;
    Getopt g(args, "pm:");
    for (int ch; (ch = g.next()) != -1;) {
        if (ch == 'p') {
            parents = true;
        } else if (ch == 'm') {
            auto m = apply_mode(g.arg(), 0777, true);
            if (!m) {
                c.warnx("invalid file mode: {}", g.arg());
                return 1;
            }
            mode = *m;
        } else {
            usage(c, "[-p] [-m mode] directory ...");
            return 2;
        }
    }
    auto ops = g.operands();
    if (ops.empty()) {
        usage(c, "[-p] [-m mode] directory ...");
        return 2;
    }
    for (const std::string& d : ops) {
        if (parents) {
            // Each missing component, intermediate ones with u+wx so the walk can go on.
            std::string cur = d.starts_with('/') ? "/" : "";
            std::size_t i = 0;
            bool failed = false;
            while (i < d.size()) {
                while (i < d.size() && d[i] == '/')
                    ++i;
                std::size_t j = d.find('/', i);
                if (j == std::string::npos)
                    j = d.size();
                if (j == i)
                    break;
                cur = join(cur, d.substr(i, j - i));
                bool last = d.find_first_not_of('/', j) == std::string::npos;
                auto st = c.mnt->stat(cur);
                if (st) {
                    if (!S_ISDIR(st->st_mode)) {
                        c.fail_errno(cur, ENOTDIR);
                        failed = true;
                        break;
                    }
                } else {
                    auto r = c.mnt->mkdir(cur, last ? mode : 0755);
                    if (!r && r.error().errnum() != EEXIST) {
                        c.fail(cur, r.error());
                        failed = true;
                        break;
                    }
                    if (last && mode & 07000)
                        (void)c.mnt->chmod(cur, mode);
                }
                i = j;
            }
            (void)failed;
            continue;
        }
        auto r = c.mnt->mkdir(d, mode);
        if (!r) {
            c.fail(d, r.error());
            continue;
        }
        if (mode & 07000)  // set-id and sticky bits are not taken by mkdir on every system
            (void)c.mnt->chmod(d, mode);
    }
    return c.status;
}

int cmd_rmdir(Ctx& c, std::vector<std::string>& args) {
    bool parents = false;
    Getopt g(args, "p");
    for (int ch; (ch = g.next()) != -1;) {
        if (ch != 'p') {
            usage(c, "[-p] directory ...");
            return 2;
        }
        parents = true;
    }
    auto ops = g.operands();
    if (ops.empty()) {
        usage(c, "[-p] directory ...");
        return 2;
    }
    for (std::string d : ops) {
        while (true) {
            auto r = c.mnt->rmdir(d);
            if (!r) {
                c.fail(d, r.error());
                break;
            }
            if (!parents)
                break;
            std::string parent = dir_name(d);
            if (parent == "/" || parent == "." || parent == d)
                break;
            d = parent;
        }
    }
    return c.status;
}

namespace {

bool remove_tree(Ctx& c, const std::string& path, bool force) {
    auto list = c.mnt->list(path);
    if (!list) {
        c.fail(path, list.error());
        return false;
    }
    bool ok = true;
    for (const uk::DirEntry& e : *list) {
        if (e.name == "." || e.name == "..")
            continue;
        std::string p = join(path, e.name);
        if (bad_name(e.name)) {
            c.warnx("{}: bad name in directory", p);
            ok = false;
            continue;
        }
        auto st = c.mnt->stat(p, uk::Follow::no);
        if (!st) {
            if (!(force && st.error().errnum() == ENOENT)) {
                c.fail(p, st.error());
                ok = false;
            }
            continue;
        }
        if (S_ISDIR(st->st_mode)) {
            ok = remove_tree(c, p, force) && ok;
        } else if (auto r = c.mnt->remove(p); !r) {
            c.fail(p, r.error());
            ok = false;
        }
    }
    if (auto r = c.mnt->rmdir(path); !r) {
        c.fail(path, r.error());
        return false;
    }
    return ok;
}

}  // namespace

int cmd_rm(Ctx& c, std::vector<std::string>& args) {
    bool force = false, recurse = false, dirs = false;
    Getopt g(args, "fRrdiPv");
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case 'f': force = true; break;
        case 'R':
        case 'r': recurse = true; break;
        case 'd': dirs = true; break;
        case 'i': force = false; break;
        case 'P':
        case 'v': break;
        default: usage(c, "[-fdRr] file ..."); return 2;
        }
    }
    auto ops = g.operands();
    if (ops.empty() && !force) {
        usage(c, "[-fdRr] file ...");
        return 2;
    }
    for (const std::string& p : ops) {
        std::string b = base_name(p);
        if (b == "." || b == ".." || b == "/") {
            c.warnx("\"{}\" may not be removed", p);
            continue;
        }
        auto st = c.mnt->stat(p, uk::Follow::no);
        if (!st) {
            if (!(force && st.error().errnum() == ENOENT))
                c.fail(p, st.error());
            continue;
        }
        if (S_ISDIR(st->st_mode)) {
            if (recurse) {
                remove_tree(c, p, force);
            } else if (dirs) {
                if (auto r = c.mnt->rmdir(p); !r)
                    c.fail(p, r.error());
            } else {
                c.fail_errno(p, EISDIR);
            }
            continue;
        }
        if (auto r = c.mnt->remove(p); !r)
            c.fail(p, r.error());
    }
    return c.status;
}

int cmd_mv(Ctx& c, std::vector<std::string>& args) {
    Getopt g(args, "fiv");
    for (int ch; (ch = g.next()) != -1;)
        if (ch == '?') {
            usage(c, "[-f] source ... target");
            return 2;
        }
    auto ops = g.operands();
    if (ops.size() < 2) {
        usage(c, "[-f] source ... target");
        return 2;
    }
    std::string target = ops.back();
    ops.pop_back();
    auto tst = c.mnt->stat(target);
    bool target_dir = tst && S_ISDIR(tst->st_mode);
    if (ops.size() > 1 && !target_dir) {
        c.warnx("{}: not a directory", target);
        return 1;
    }
    for (const std::string& s : ops) {
        std::string dst = target_dir ? join(target, base_name(s)) : target;
        if (auto r = c.mnt->rename(s, dst); !r)
            c.warnx("rename {} to {}: {}", s, dst, std::strerror(r.error().errnum()));
    }
    return c.status;
}

int cmd_ln(Ctx& c, std::vector<std::string>& args) {
    bool sym = false, force = false;
    Getopt g(args, "fsnhv");
    for (int ch; (ch = g.next()) != -1;) {
        if (ch == 's')
            sym = true;
        else if (ch == 'f')
            force = true;
        else if (ch == '?') {
            usage(c, "[-fs] source [target] | source ... directory");
            return 2;
        }
    }
    auto ops = g.operands();
    if (ops.empty()) {
        usage(c, "[-fs] source [target] | source ... directory");
        return 2;
    }
    std::string target = ops.size() == 1 ? "." : ops.back();
    if (ops.size() > 1)
        ops.pop_back();
    auto tst = c.mnt->stat(target);
    bool target_dir = tst && S_ISDIR(tst->st_mode);
    if (ops.size() > 1 && !target_dir) {
        c.warnx("{}: not a directory", target);
        return 1;
    }
    for (const std::string& s : ops) {
        std::string dst = target_dir ? join(target, base_name(s)) : target;
        if (force) {
            auto dst_st = c.mnt->stat(dst, uk::Follow::no);
            if (dst_st && !S_ISDIR(dst_st->st_mode))
                (void)c.mnt->remove(dst);
        }
        auto r = sym ? c.mnt->symlink(s, dst) : c.mnt->link(s, dst);
        if (!r)
            c.fail(dst, r.error());
    }
    return c.status;
}

int cmd_chmod(Ctx& c, std::vector<std::string>& args) {
    bool recurse = false, nofollow = false;
    // chmod -x file: "-x" is a mode, not an option; options stop at the first word that is not
    // one of ours.
    std::size_t i = 1;
    for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
        if (args[i] == "--") {
            ++i;
            break;
        }
        if (args[i].find_first_not_of("RHLPhf", 1) != std::string::npos)
            break;
        recurse |= args[i].find('R') != std::string::npos;
        nofollow |= args[i].find('h') != std::string::npos;
    }
    if (args.size() - i < 2) {
        usage(c, "[-R] [-h] mode file ...");
        return 2;
    }
    std::string spec = args[i];
    if (!apply_mode(spec, 0, false)) {
        c.warnx("invalid file mode: {}", spec);
        return 1;
    }
    for (std::size_t k = i + 1; k < args.size(); ++k) {
        walk_tree(c, args[k], recurse, !nofollow,
                  [&](const std::string& p, const struct stat& st, bool top) {
                      if (S_ISLNK(st.st_mode) && !(top && nofollow))
                          return;  // links inside a tree are not followed, nor changed
                      auto m = apply_mode(spec, st.st_mode, S_ISDIR(st.st_mode));
                      auto r = c.mnt->chmod(p, *m,
                                            S_ISLNK(st.st_mode) ? uk::Follow::no : uk::Follow::yes);
                      if (!r)
                          c.fail(p, r.error());
                  });
    }
    return c.status;
}

namespace {

// What chown and chflags take before their operands: -R (recurse) and -h (change a link, not
// what it names); -H, -L, -P, -f and -v are accepted as the NetBSD tools accept them.
struct TreeChange {
    bool recurse = false;
    bool nofollow = false;
    std::vector<std::string> operands;  // the change, then at least one file
};

// The options and operands of a tree change, or nullopt after a usage message.
std::optional<TreeChange> tree_change_args(Ctx& c, std::vector<std::string>& args,
                                           const char* synopsis) {
    TreeChange t;
    Getopt g(args, "RHLPhfv");
    for (int ch; (ch = g.next()) != -1;) {
        if (ch == 'R') {
            t.recurse = true;
        } else if (ch == 'h') {
            t.nofollow = true;
        } else if (ch == '?') {
            usage(c, synopsis);
            return std::nullopt;
        }
    }
    t.operands = g.operands();
    if (t.operands.size() < 2) {
        usage(c, synopsis);
        return std::nullopt;
    }
    return t;
}

}  // namespace

int cmd_chown(Ctx& c, std::vector<std::string>& args) {
    auto t = tree_change_args(c, args, "[-R] [-h] owner[:group] file ...");
    if (!t)
        return 2;
    const bool recurse = t->recurse, nofollow = t->nofollow;
    const std::vector<std::string>& ops = t->operands;
    std::string spec = ops[0];
    std::optional<std::uint32_t> uid, gid;
    auto colon = spec.find_first_of(":.");
    std::string u = spec.substr(0, colon);
    if (!u.empty()) {
        auto v = parse_user(u);
        if (!v) {
            c.warnx("{}: illegal user name", u);
            return 1;
        }
        uid = *v;
    }
    if (colon != std::string::npos && colon + 1 < spec.size()) {
        auto v = parse_group(spec.substr(colon + 1));
        if (!v) {
            c.warnx("{}: illegal group name", spec.substr(colon + 1));
            return 1;
        }
        gid = *v;
    }
    for (std::size_t k = 1; k < ops.size(); ++k) {
        walk_tree(c, ops[k], recurse, !nofollow,
                  [&](const std::string& p, const struct stat& st, bool top) {
                      bool link = S_ISLNK(st.st_mode);
                      auto r = c.mnt->chown(p, uid, gid,
                                            link && (nofollow || !top) ? uk::Follow::no
                                                                       : uk::Follow::yes);
                      if (!r)
                          c.fail(p, r.error());
                  });
    }
    return c.status;
}

int cmd_chflags(Ctx& c, std::vector<std::string>& args) {
    auto t = tree_change_args(c, args, "[-R] [-h] flags file ...");
    if (!t)
        return 2;
    const bool recurse = t->recurse, nofollow = t->nofollow;
    const std::vector<std::string>& ops = t->operands;
    std::uint32_t set = 0, clear = 0;
    if (!parse_flags(ops[0], &set, &clear)) {
        c.warnx("{}: invalid flag", ops[0]);
        return 1;
    }
    for (std::size_t k = 1; k < ops.size(); ++k) {
        walk_tree(c, ops[k], recurse, !nofollow,
                  [&](const std::string& p, const struct stat& st, bool top) {
                      uk::Follow f = S_ISLNK(st.st_mode) && (nofollow || !top) ? uk::Follow::no
                                                                               : uk::Follow::yes;
                      auto old = c.mnt->flags(p, f);
                      if (!old) {
                          c.fail(p, old.error());
                          return;
                      }
                      auto r = c.mnt->chflags(p, (*old & ~clear) | set, f);
                      if (!r)
                          c.fail(p, r.error());
                  });
    }
    return c.status;
}

namespace {

// touch -t [[CC]YY]MMDDhhmm[.SS], local time.
std::optional<timespec> parse_touch_time(std::string s) {
    int sec = 0;
    auto dot = s.find('.');
    if (dot != std::string::npos) {
        std::string ss = s.substr(dot + 1);
        if (ss.size() != 2 || ss.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        sec = std::stoi(ss);
        s.resize(dot);
    }
    if (s.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    struct tm tm {};
    time_t now = std::time(nullptr);
    localtime_r(&now, &tm);
    auto two = [&](std::size_t at) { return std::stoi(s.substr(at, 2)); };
    std::size_t p = 0;
    if (s.size() == 12) {
        tm.tm_year = two(0) * 100 + two(2) - 1900;
        p = 4;
    } else if (s.size() == 10) {
        int yy = two(0);
        tm.tm_year = (yy < 69 ? 2000 + yy : 1900 + yy) - 1900;
        p = 2;
    } else if (s.size() != 8) {
        return std::nullopt;
    }
    tm.tm_mon = two(p) - 1;
    tm.tm_mday = two(p + 2);
    tm.tm_hour = two(p + 4);
    tm.tm_min = two(p + 6);
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || sec > 60)
        return std::nullopt;
    time_t t = mktime(&tm);
    if (t == static_cast<time_t>(-1))
        return std::nullopt;
    return timespec{t, 0};
}

// touch -d: POSIX's YYYY-MM-DDThh:mm:SS[.frac][Z] (a space may replace the T).
std::optional<timespec> parse_touch_date(const std::string& s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
    char sep = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &sec,
                    &used) != 7 ||
        (sep != 'T' && sep != ' '))
        return std::nullopt;
    long nsec = 0;
    std::size_t i = static_cast<std::size_t>(used);
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        long scale = 100000000;
        for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, scale /= 10)
            nsec += (s[i] - '0') * scale;
    }
    bool utc = i < s.size() && s[i] == 'Z';
    if (utc)
        ++i;
    if (i != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return std::nullopt;
    struct tm tm {};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    time_t t = utc ? timegm(&tm) : mktime(&tm);
    if (t == static_cast<time_t>(-1))
        return std::nullopt;
    return timespec{t, nsec};
}

}  // namespace

int cmd_touch(Ctx& c, std::vector<std::string>& args) {
    bool only_a = false, only_m = false, no_create = false, nofollow = false;
    std::optional<timespec> at, mt;
    Getopt g(args, "acd:fhmr:t:");
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case 'a': only_a = true; break;
        case 'm': only_m = true; break;
        case 'c': no_create = true; break;
        case 'f': break;
        case 'h': nofollow = no_create = true; break;
        case 'r': {
            auto st = c.mnt->stat(g.arg());
            if (!st) {
                c.fail(g.arg(), st.error());
                return 1;
            }
            at = st->st_atim;
            mt = st->st_mtim;
            break;
        }
        case 'd': {
            auto t = parse_touch_date(g.arg());
            if (!t) {
                c.warnx("out of range or illegal time specification: {}", g.arg());
                return 1;
            }
            at = mt = *t;
            break;
        }
        case 't': {
            auto t = parse_touch_time(g.arg());
            if (!t) {
                c.warnx("out of range or illegal time specification: {}", g.arg());
                return 1;
            }
            at = mt = *t;
            break;
        }
        default:
            usage(c, "[-acfhm] [-d YYYY-MM-DDThh:mm:SS[.frac][Z] | -r file | -t "
                     "[[CC]YY]MMDDhhmm[.SS]] file ...");
            return 2;
        }
    }
    auto ops = g.operands();
    if (ops.empty()) {
        usage(c, "[-acfhm] [-d YYYY-MM-DDThh:mm:SS[.frac][Z] | -r file | -t [[CC]YY]MMDDhhmm[.SS]] "
                 "file ...");
        return 2;
    }
    if (!only_a && !only_m)
        only_a = only_m = true;
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    for (const std::string& p : ops) {
        uk::Follow f = nofollow ? uk::Follow::no : uk::Follow::yes;
        auto st = c.mnt->stat(p, f);
        if (!st) {
            if (st.error().errnum() != ENOENT || no_create) {
                if (!no_create)
                    c.fail(p, st.error());
                continue;
            }
            if (auto r = c.mnt->create(p, 0644); !r) {
                c.fail(p, r.error());
                continue;
            }
            st = c.mnt->stat(p);
            if (!st) {
                c.fail(p, st.error());
                continue;
            }
        }
        timespec a = only_a ? at.value_or(now) : st->st_atim;
        timespec m = only_m ? mt.value_or(now) : st->st_mtim;
        if (auto r = c.mnt->utimes(p, a, m, f); !r)
            c.fail(p, r.error());
    }
    return c.status;
}

int cmd_mknod(Ctx& c, std::vector<std::string>& args) {
    mode_t mode = 0666 & ~022;
    Getopt g(args, "m:");
    for (int ch; (ch = g.next()) != -1;) {
        if (ch == 'm') {
            auto m = parse_octal_mode(c, g.arg());
            if (!m)
                return 1;
            mode = *m;
        } else {
            usage(c, "[-m mode] name b|c major minor | name p");
            return 2;
        }
    }
    auto ops = g.operands();
    if (ops.size() == 2 && ops[1] == "p") {
        if (auto r = c.mnt->mknod(ops[0], S_IFIFO | mode); !r)
            c.fail(ops[0], r.error());
        return c.status;
    }
    if (ops.size() != 4 || (ops[1] != "b" && ops[1] != "c")) {
        usage(c, "[-m mode] name b|c major minor | name p");
        return 2;
    }
    auto number = [&](const std::string& s) -> std::optional<unsigned> {
        char* end = nullptr;
        unsigned long v = std::strtoul(s.c_str(), &end, 0);
        if (s.empty() || *end || v > 0xfffff)
            return std::nullopt;
        return static_cast<unsigned>(v);
    };
    auto ma = number(ops[2]), mi = number(ops[3]);
    if (!ma || !mi) {
        c.warnx("invalid device number: {} {}", ops[2], ops[3]);
        return 1;
    }
    mode_t type = ops[1] == "b" ? S_IFBLK : S_IFCHR;
    if (auto r = c.mnt->mknod(ops[0], type | mode, makedev(*ma, *mi)); !r)
        c.fail(ops[0], r.error());
    return c.status;
}

int cmd_mkfifo(Ctx& c, std::vector<std::string>& args) {
    mode_t mode = 0666 & ~022;
    Getopt g(args, "m:");
    for (int ch; (ch = g.next()) != -1;) {
        if (ch == 'm') {
            auto m = apply_mode(g.arg(), 0666, false);
            if (!m) {
                c.warnx("invalid file mode: {}", g.arg());
                return 1;
            }
            mode = *m;
        } else {
            usage(c, "[-m mode] fifo ...");
            return 2;
        }
    }
    auto ops = g.operands();
    if (ops.empty()) {
        usage(c, "[-m mode] fifo ...");
        return 2;
    }
    for (const std::string& p : ops)
        if (auto r = c.mnt->mknod(p, S_IFIFO | mode); !r)
            c.fail(p, r.error());
    return c.status;
}

}  // namespace fsu
