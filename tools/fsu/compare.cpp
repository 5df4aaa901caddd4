// cmp and diff: compare files and trees in the image, on the host or in a second image.
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
// ---- cmp and diff: an operand is in the image or, written host:PATH, on the host ----------

namespace {

struct Side {
    Ctx& c;
    bool host;
    uk::Mount* m;  // the image (the first or the second), or null on the host
    std::string shown;  // display prefix

    uk::Result<struct stat> stat(const std::string& p, bool follow) const {
        if (!host)
            return m->stat(p, follow ? uk::Follow::yes : uk::Follow::no);
        struct stat st;
        if ((follow ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st)) != 0)
            return uk::Error::sys(errno);
        return st;
    }
    uk::Result<std::string> read_all(const std::string& p) const {
        if (!host) {
            auto v = m->read_file(p);
            if (!v)
                return v.error();
            return std::string(reinterpret_cast<const char*>(v->data()), v->size());
        }
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return uk::Error::sys(errno);
        std::string out;
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0) {
                int e = errno;
                ::close(fd);
                return uk::Error::sys(e);
            }
            if (n == 0)
                break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fd);
        return out;
    }
    uk::Result<std::vector<std::string>> list(const std::string& p) const {
        std::vector<std::string> out;
        if (!host) {
            auto l = m->list(p);
            if (!l)
                return l.error();
            for (const uk::DirEntry& e : *l)
                if (e.name != "." && e.name != "..")
                    out.push_back(e.name);
        } else {
            DIR* d = ::opendir(p.c_str());
            if (!d)
                return uk::Error::sys(errno);
            while (dirent* e = ::readdir(d))
                if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
                    out.emplace_back(e->d_name);
            ::closedir(d);
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    uk::Result<std::string> readlink(const std::string& p) const {
        if (!host)
            return m->readlink(p);
        char buf[4096];
        ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
        if (n < 0)
            return uk::Error::sys(errno);
        return std::string(buf, static_cast<std::size_t>(n));
    }
};

Side side_of(Ctx& c, SecondImage& second, const std::string& operand, std::string* path) {
    if (auto h = host_operand(operand)) {
        *path = *h;
        return Side{c, true, nullptr, *h};
    }
    if (auto p = second_operand(operand)) {
        *path = *p;
        return Side{c, false, &*second.mount, *p};
    }
    *path = operand;
    return Side{c, false, c.mnt, operand};
}

// Opens the second image when an operand names it; false (after a message) on failure.
bool open_second(Ctx& c, SecondImage& second, const std::vector<std::string>& ops) {
    for (const std::string& o : ops)
        if (second_operand(o))
            return second.open(c, false);
    return true;
}

}  // namespace

int cmd_cmp(Ctx& c, std::vector<std::string>& args) {
    bool list_all = false, silent = false;
    SecondImage second;
    Getopt g(args, "lsI:T:");
    for (int ch; (ch = g.next()) != -1;) {
        if (ch == 'I')
            second.image = g.arg();
        else if (ch == 'T')
            second.type = g.arg();
        else if (ch == 'l')
            list_all = true;
        else if (ch == 's')
            silent = true;
        else
            return 2;
    }
    auto ops = g.operands();
    if (ops.size() != 2) {
        fmt::print(stderr, "usage: {} [-l|-s] [-I image2 [-T type2]] file1 file2\n", c.prog);
        return 2;
    }
    if (!open_second(c, second, ops))
        return 2;
    std::string p1, p2;
    Side s1 = side_of(c, second, ops[0], &p1), s2 = side_of(c, second, ops[1], &p2);
    auto a = s1.read_all(p1);
    if (!a) {
        if (!silent)
            c.fail(p1, a.error());
        return 2;
    }
    auto b = s2.read_all(p2);
    if (!b) {
        if (!silent)
            c.fail(p2, b.error());
        return 2;
    }
    std::size_t n = std::min(a->size(), b->size());
    std::uint64_t line = 1;
    bool differ = false;
    for (std::size_t i = 0; i < n; ++i) {
        if ((*a)[i] != (*b)[i]) {
            differ = true;
            if (silent)
                return 1;
            if (!list_all) {
                fmt::print("{} {} differ: char {}, line {}\n", p1, p2, i + 1, line);
                return 1;
            }
            fmt::print("{} {:o} {:o}\n", i + 1, static_cast<unsigned char>((*a)[i]),
                       static_cast<unsigned char>((*b)[i]));
        }
        if ((*a)[i] == '\n')
            ++line;
    }
    if (a->size() != b->size()) {
        if (!silent) {
            std::fflush(stdout);
            fmt::print(stderr, "{}: EOF on {}\n", c.prog, a->size() < b->size() ? p1 : p2);
        }
        return 1;
    }
    return differ ? 1 : 0;
}

namespace {

struct DiffOpts {
    bool brief = false, recursive = false, unified = false, follow = true;
    int context = 3;
    bool differ = false, trouble = false;
    std::string invocation;  // "diff -r" etc. for the per-file header of recursive diffs
};

std::vector<std::string_view> split_lines(const std::string& s, bool* last_has_newline) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start < s.size()) {
        auto nl = s.find('\n', start);
        if (nl == std::string::npos) {
            out.emplace_back(s.data() + start, s.size() - start);
            *last_has_newline = false;
            return out;
        }
        out.emplace_back(s.data() + start, nl - start);
        start = nl + 1;
    }
    *last_has_newline = true;
    return out;
}

struct Op {
    char kind;  // '=', '-', '+'
    std::size_t a, b;  // line indexes (0-based) in each file
};

// The edit script by longest common subsequence, after stripping the common prefix and suffix.
bool edit_script(const std::vector<std::string_view>& A, const std::vector<std::string_view>& B,
                 std::vector<Op>& ops) {
    std::size_t pre = 0;
    while (pre < A.size() && pre < B.size() && A[pre] == B[pre])
        ++pre;
    std::size_t suf = 0;
    while (suf < A.size() - pre && suf < B.size() - pre && A[A.size() - 1 - suf] == B[B.size() - 1 - suf])
        ++suf;
    std::size_t n = A.size() - pre - suf, m = B.size() - pre - suf;
    if (n * m > (std::size_t{1} << 24))
        return false;
    std::vector<std::uint32_t> L((n + 1) * (m + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return L[i * (m + 1) + j]; };
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t j = m; j-- > 0;)
            at(i, j) = A[pre + i] == B[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    for (std::size_t k = 0; k < pre; ++k)
        ops.push_back({'=', k, k});
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && A[pre + i] == B[pre + j]) {
            ops.push_back({'=', pre + i, pre + j});
            ++i;
            ++j;
        } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
            ops.push_back({'-', pre + i, pre + j});
            ++i;
        } else {
            ops.push_back({'+', pre + i, pre + j});
            ++j;
        }
    }
    for (std::size_t k = 0; k < suf; ++k)
        ops.push_back({'=', A.size() - suf + k, B.size() - suf + k});
    return true;
}

std::string range(std::size_t first, std::size_t count) {  // 1-based first line
    if (count <= 1)
        return std::to_string(count == 0 ? first - 1 : first);
    return fmt::format("{},{}", first, first + count - 1);
}

std::string file_time(const Side& s, const std::string& p) {
    auto st = s.stat(p, true);
    if (!st)
        return "";
    struct tm tm {};
    time_t sec = st->st_mtim.tv_sec;
    localtime_r(&sec, &tm);
    char buf[64], zone[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    std::strftime(zone, sizeof zone, "%z", &tm);
    return fmt::format("{}.{:09} {}", buf, st->st_mtim.tv_nsec, zone);
}

void diff_text(DiffOpts& o, const Side& s1, const std::string& p1, const std::string& a,
               const Side& s2, const std::string& p2, const std::string& b, bool header) {
    bool nl_a = true, nl_b = true;
    auto A = split_lines(a, &nl_a), B = split_lines(b, &nl_b);
    std::vector<Op> ops;
    if (!edit_script(A, B, ops)) {
        fmt::print("Files {} and {} differ\n", p1, p2);
        return;
    }
    if (header)
        fmt::print("{} {} {}\n", o.invocation, p1, p2);
    auto line_out = [&](char mark, const std::vector<std::string_view>& L, std::size_t idx, bool nl_last) {
        fmt::print("{}{}\n", o.unified ? std::string(1, mark) : std::string(1, mark) + " ", L[idx]);
        if (idx + 1 == L.size() && !nl_last)
            fmt::print("\\ No newline at end of file\n");
    };
    if (!o.unified) {
        for (std::size_t k = 0; k < ops.size();) {
            if (ops[k].kind == '=') {
                ++k;
                continue;
            }
            std::size_t a0 = ops[k].a, b0 = ops[k].b, da = 0, db = 0, e = k;
            while (e < ops.size() && ops[e].kind != '=') {
                (ops[e].kind == '-' ? da : db)++;
                ++e;
            }
            char kind = da && db ? 'c' : da ? 'd' : 'a';
            fmt::print("{}{}{}\n", range(a0 + 1, da), kind, range(b0 + 1, db));
            for (std::size_t q = k; q < e; ++q)
                if (ops[q].kind == '-')
                    line_out('<', A, ops[q].a, nl_a);
            if (kind == 'c')
                fmt::print("---\n");
            for (std::size_t q = k; q < e; ++q)
                if (ops[q].kind == '+')
                    line_out('>', B, ops[q].b, nl_b);
            k = e;
        }
        return;
    }
    fmt::print("--- {}\t{}\n+++ {}\t{}\n", p1, file_time(s1, p1), p2, file_time(s2, p2));
    auto ctx = static_cast<std::size_t>(o.context);
    for (std::size_t k = 0; k < ops.size();) {
        if (ops[k].kind == '=') {
            ++k;
            continue;
        }
        // A hunk: from ctx lines before this change to ctx lines after the last change that is
        // within 2*ctx equal lines of the previous one.
        std::size_t start = k >= ctx ? k - ctx : 0;
        std::size_t end = k;
        while (true) {
            while (end < ops.size() && ops[end].kind != '=')
                ++end;
            std::size_t eq = end;
            while (eq < ops.size() && ops[eq].kind == '=')
                ++eq;
            if (eq < ops.size() && eq - end <= 2 * ctx) {
                end = eq;
                continue;
            }
            end = std::min(ops.size(), end + ctx);
            break;
        }
        std::size_t na = 0, nb = 0;
        for (std::size_t q = start; q < end; ++q) {
            if (ops[q].kind != '+')
                ++na;
            if (ops[q].kind != '-')
                ++nb;
        }
        std::size_t fa = ops[start].a + 1, fb = ops[start].b + 1;
        auto ur = [](std::size_t f, std::size_t cnt) {
            if (cnt == 1)
                return std::to_string(f);
            return fmt::format("{},{}", cnt == 0 ? f - 1 : f, cnt);
        };
        fmt::print("@@ -{} +{} @@\n", ur(fa, na), ur(fb, nb));
        for (std::size_t q = start; q < end; ++q) {
            if (ops[q].kind == '=')
                line_out(' ', A, ops[q].a, nl_a);
            else if (ops[q].kind == '-')
                line_out('-', A, ops[q].a, nl_a);
            else
                line_out('+', B, ops[q].b, nl_b);
        }
        k = end;
    }
}

const char* kind_name(mode_t m) {
    switch (m & S_IFMT) {
    case S_IFREG: return "regular file";
    case S_IFDIR: return "directory";
    case S_IFLNK: return "symbolic link";
    case S_IFIFO: return "fifo";
    case S_IFCHR: return "character special file";
    case S_IFBLK: return "block special file";
    default: return "socket";
    }
}

void diff_paths(DiffOpts& o, const Side& s1, const std::string& p1, const Side& s2,
                const std::string& p2, bool top) {
    auto st1 = s1.stat(p1, top || o.follow), st2 = s2.stat(p2, top || o.follow);
    if (!st1 || !st2) {
        s1.c.fail(!st1 ? p1 : p2, !st1 ? st1.error() : st2.error());
        o.trouble = true;
        return;
    }
    bool d1 = S_ISDIR(st1->st_mode), d2 = S_ISDIR(st2->st_mode);
    if (d1 && d2) {
        if (!top && !o.recursive) {
            fmt::print("Common subdirectories: {} and {}\n", p1, p2);
            return;
        }
        auto l1 = s1.list(p1), l2 = s2.list(p2);
        if (!l1 || !l2) {
            s1.c.fail(!l1 ? p1 : p2, !l1 ? l1.error() : l2.error());
            o.trouble = true;
            return;
        }
        std::size_t i = 0, j = 0;
        while (i < l1->size() || j < l2->size()) {
            int cmp = i == l1->size() ? 1 : j == l2->size() ? -1 : (*l1)[i].compare((*l2)[j]);
            if (cmp < 0) {
                fmt::print("Only in {}: {}\n", p1, (*l1)[i++]);
                o.differ = true;
            } else if (cmp > 0) {
                fmt::print("Only in {}: {}\n", p2, (*l2)[j++]);
                o.differ = true;
            } else {
                if (bad_name((*l1)[i])) {
                    s1.c.warnx("{}: bad name in directory", join(p1, (*l1)[i]));
                    o.trouble = true;
                } else {
                    diff_paths(o, s1, join(p1, (*l1)[i]), s2, join(p2, (*l2)[j]), false);
                }
                ++i;
                ++j;
            }
        }
        return;
    }
    if (d1 != d2 || (st1->st_mode & S_IFMT) != (st2->st_mode & S_IFMT)) {
        fmt::print("File {} is a {} while file {} is a {}\n", p1, kind_name(st1->st_mode), p2,
                   kind_name(st2->st_mode));
        o.differ = true;
        return;
    }
    if (S_ISLNK(st1->st_mode)) {
        auto t1 = s1.readlink(p1), t2 = s2.readlink(p2);
        if (t1 && t2 && *t1 != *t2) {
            fmt::print("Symbolic links {} -> {} and {} -> {} differ\n", p1, *t1, p2, *t2);
            o.differ = true;
        }
        return;
    }
    if (!S_ISREG(st1->st_mode)) {
        if (st1->st_rdev != st2->st_rdev) {
            fmt::print("Files {} and {} differ\n", p1, p2);
            o.differ = true;
        }
        return;
    }
    auto a = s1.read_all(p1);
    auto b = s2.read_all(p2);
    if (!a || !b) {
        s1.c.fail(!a ? p1 : p2, !a ? a.error() : b.error());
        o.trouble = true;
        return;
    }
    if (*a == *b)
        return;
    o.differ = true;
    bool binary = a->find('\0') != std::string::npos || b->find('\0') != std::string::npos;
    if (o.brief) {
        fmt::print("Files {} and {} differ\n", p1, p2);
    } else if (binary) {
        fmt::print("Binary files {} and {} differ\n", p1, p2);
    } else {
        diff_text(o, s1, p1, *a, s2, p2, *b, !top);
    }
}

}  // namespace

int cmd_diff(Ctx& c, std::vector<std::string>& args) {
    DiffOpts o;
    o.invocation = "diff";
    SecondImage second;
    Getopt g(args, "qruU:I:T:N");
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case 'I': second.image = g.arg(); break;
        case 'T': second.type = g.arg(); break;
        case 'N': o.follow = false; o.invocation += " --no-dereference"; break;
        case 'q': o.brief = true; o.invocation += " -q"; break;
        case 'r': o.recursive = true; o.invocation += " -r"; break;
        case 'u': o.unified = true; o.invocation += " -u"; break;
        case 'U':
            o.unified = true;
            o.context = std::max(0, std::min(1000, std::atoi(g.arg())));
            o.invocation += fmt::format(" -U {}", o.context);
            break;
        default: fmt::print(stderr, "usage: {} [-qru] [-U n] [--no-dereference] [-I image2 [-T type2]] file1 file2\n", c.prog); return 2;
        }
    }
    auto ops = g.operands();
    if (ops.size() != 2) {
        fmt::print(stderr, "usage: {} [-qru] [-U n] [--no-dereference] [-I image2 [-T type2]] file1 file2\n", c.prog);
        return 2;
    }
    if (!open_second(c, second, ops))
        return 2;
    std::string p1, p2;
    Side s1 = side_of(c, second, ops[0], &p1), s2 = side_of(c, second, ops[1], &p2);
    // diff FILE DIR compares FILE with DIR/basename(FILE), as POSIX says.
    auto st1 = s1.stat(p1, true), st2 = s2.stat(p2, true);
    if (st1 && st2 && S_ISDIR(st2->st_mode) && !S_ISDIR(st1->st_mode))
        p2 = join(p2, base_name(p1));
    else if (st1 && st2 && S_ISDIR(st1->st_mode) && !S_ISDIR(st2->st_mode))
        p1 = join(p1, base_name(p2));
    diff_paths(o, s1, p1, s2, p2, true);
    if (o.trouble)
        return 2;
    c.status = 0;
    return o.differ ? 1 : 0;
}

}  // namespace fsu
