// find, du, cmp, diff: the commands that walk trees or compare files.
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

extern char** environ;

namespace fsu {
namespace {

// ---- find ----------------------------------------------------------------------------------

struct FindNode {
    enum Kind { And, Or, Not, Name, IName, Path, Type, Size, Mtime, Mmin, Newer, Print, Print0,
                Exec, Empty, Links, Inum, Prune, User, Group, Perm, True, False } kind;
    std::vector<std::unique_ptr<FindNode>> kids;
    std::string s;
    int cmp = 0;  // -1 less, 0 equal, 1 more
    std::int64_t n = 0;
    std::int64_t unit = 512;
    std::vector<std::string> argv;
    timespec t{};
    bool plus = false;                  // -exec ... {} +: many files per run
    std::vector<std::string> pending;   // their extracted copies, waiting for the run
};

struct FindCtx {
    explicit FindCtx(Ctx& ctx) : c(ctx) {}
    Ctx& c;
    int maxdepth = -1, mindepth = 0;
    bool depth_first = false;
    std::time_t now = std::time(nullptr);
    std::string tmpdir;
    bool prune = false;
    unsigned long copies = 0;
};

class FindParser {
public:
    FindParser(Ctx& c, std::vector<std::string> toks, FindCtx& fc) : m_c(c), m_t(std::move(toks)), m_fc(fc) {}

    std::unique_ptr<FindNode> parse(bool* has_action, bool* ok) {
        *ok = true;
        if (m_t.empty()) {
            *has_action = false;
            return leaf(FindNode::True);
        }
        auto e = parse_or();
        if (!e || m_i != m_t.size()) {
            if (e && m_i < m_t.size())
                m_c.warnx("{}: unexpected", m_t[m_i]);
            *ok = false;
            return nullptr;
        }
        *has_action = m_action;
        return e;
    }

private:
    static std::unique_ptr<FindNode> leaf(FindNode::Kind k) {
        auto n = std::make_unique<FindNode>();
        n->kind = k;
        return n;
    }
    std::unique_ptr<FindNode> parse_or() {
        auto l = parse_and();
        while (l && m_i < m_t.size() && (m_t[m_i] == "-o" || m_t[m_i] == "-or")) {
            ++m_i;
            auto r = parse_and();
            if (!r)
                return nullptr;
            auto n = leaf(FindNode::Or);
            n->kids.push_back(std::move(l));
            n->kids.push_back(std::move(r));
            l = std::move(n);
        }
        return l;
    }
    std::unique_ptr<FindNode> parse_and() {
        auto l = parse_not();
        while (l && m_i < m_t.size() && m_t[m_i] != "-o" && m_t[m_i] != "-or" && m_t[m_i] != ")") {
            if (m_t[m_i] == "-a" || m_t[m_i] == "-and")
                ++m_i;
            auto r = parse_not();
            if (!r)
                return nullptr;
            auto n = leaf(FindNode::And);
            n->kids.push_back(std::move(l));
            n->kids.push_back(std::move(r));
            l = std::move(n);
        }
        return l;
    }
    std::unique_ptr<FindNode> parse_not() {
        if (m_i < m_t.size() && (m_t[m_i] == "!" || m_t[m_i] == "-not")) {
            ++m_i;
            auto e = parse_not();
            if (!e)
                return nullptr;
            auto n = leaf(FindNode::Not);
            n->kids.push_back(std::move(e));
            return n;
        }
        return parse_primary();
    }
    bool need_arg(const std::string& p) {
        if (m_i >= m_t.size()) {
            m_c.warnx("{}: requires additional arguments", p);
            return false;
        }
        return true;
    }
    bool number(const std::string& p, std::string a, FindNode& n, bool units) {
        n.cmp = 0;
        if (!a.empty() && (a[0] == '+' || a[0] == '-')) {
            n.cmp = a[0] == '+' ? 1 : -1;
            a.erase(0, 1);
        }
        if (units && !a.empty() && !std::isdigit(static_cast<unsigned char>(a.back()))) {
            switch (a.back()) {
            case 'c': n.unit = 1; break;
            case 'w': n.unit = 2; break;
            case 'b': n.unit = 512; break;
            case 'k': n.unit = 1024; break;
            case 'M': n.unit = 1 << 20; break;
            case 'G': n.unit = 1 << 30; break;
            default: m_c.warnx("{}: {}: illegal size unit", p, a); return false;
            }
            a.pop_back();
        }
        if (a.empty() || a.size() > 18 || a.find_first_not_of("0123456789") != std::string::npos) {
            m_c.warnx("{}: {}: illegal numeric value", p, a);
            return false;
        }
        n.n = std::stoll(a);
        return true;
    }
    std::unique_ptr<FindNode> parse_primary() {
        if (m_i >= m_t.size()) {
            m_c.warnx("expression expected");
            return nullptr;
        }
        std::string p = m_t[m_i++];
        if (p == "(") {
            auto e = parse_or();
            if (!e)
                return nullptr;
            if (m_i >= m_t.size() || m_t[m_i] != ")") {
                m_c.warnx("(: missing closing ')'");
                return nullptr;
            }
            ++m_i;
            return e;
        }
        using K = FindNode::Kind;
        static const std::pair<const char*, K> with_string[] = {
            {"-name", K::Name}, {"-iname", K::IName}, {"-path", K::Path}, {"-wholename", K::Path},
            {"-type", K::Type}, {"-newer", K::Newer}, {"-user", K::User}, {"-group", K::Group},
            {"-perm", K::Perm}};
        for (auto& [name, kind] : with_string) {
            if (p != name)
                continue;
            if (!need_arg(p))
                return nullptr;
            auto n = leaf(kind);
            n->s = m_t[m_i++];
            if (kind == K::Type && (n->s.size() != 1 || !std::strchr("bcdflps", n->s[0]))) {
                m_c.warnx("-type: {}: unknown type", n->s);
                return nullptr;
            }
            if (kind == K::Newer) {
                auto st = m_c.mnt->stat(n->s);
                if (!st) {
                    m_c.fail(n->s, st.error());
                    return nullptr;
                }
                n->t = st->st_mtim;
            }
            if (kind == K::Perm) {
                std::string v = n->s;
                n->cmp = v[0] == '-' ? 1 : v[0] == '/' ? -1 : 0;
                if (n->cmp)
                    v.erase(0, 1);
                auto m = apply_mode(v, 0, false);
                if (!m) {
                    m_c.warnx("-perm: {}: illegal mode", n->s);
                    return nullptr;
                }
                n->n = *m;
            }
            return n;
        }
        static const std::pair<const char*, K> with_number[] = {
            {"-size", K::Size}, {"-mtime", K::Mtime}, {"-mmin", K::Mmin}, {"-links", K::Links},
            {"-inum", K::Inum}};
        for (auto& [name, kind] : with_number) {
            if (p != name)
                continue;
            if (!need_arg(p))
                return nullptr;
            auto n = leaf(kind);
            if (!number(p, m_t[m_i++], *n, kind == K::Size))
                return nullptr;
            return n;
        }
        if (p == "-maxdepth" || p == "-mindepth") {
            if (!need_arg(p))
                return nullptr;
            FindNode tmp;
            if (!number(p, m_t[m_i++], tmp, false))
                return nullptr;
            (p == "-maxdepth" ? m_fc.maxdepth : m_fc.mindepth) = static_cast<int>(std::min<std::int64_t>(tmp.n, 1 << 20));
            return leaf(K::True);
        }
        if (p == "-depth" || p == "-d") {
            m_fc.depth_first = true;
            return leaf(K::True);
        }
        if (p == "-xdev" || p == "-mount" || p == "-follow" || p == "-true")
            return leaf(K::True);
        if (p == "-false")
            return leaf(K::False);
        if (p == "-print" || p == "-print0") {
            m_action = true;
            return leaf(p == "-print" ? K::Print : K::Print0);
        }
        if (p == "-empty")
            return leaf(K::Empty);
        if (p == "-prune")
            return leaf(K::Prune);
        if (p == "-exec") {
            auto n = leaf(K::Exec);
            // "+" ends the primary only right after "{}" (POSIX); elsewhere it is an argument.
            while (m_i < m_t.size() && m_t[m_i] != ";" &&
                   !(m_t[m_i] == "+" && !n->argv.empty() && n->argv.back() == "{}"))
                n->argv.push_back(m_t[m_i++]);
            if (m_i >= m_t.size() || n->argv.empty()) {
                m_c.warnx("-exec: no terminating \";\" or \"+\"");
                return nullptr;
            }
            n->plus = m_t[m_i++] == "+";
            if (n->plus)
                n->argv.pop_back();
            m_action = true;
            return n;
        }
        m_c.warnx("{}: unknown primary or operator", p);
        return nullptr;
    }

    Ctx& m_c;
    std::vector<std::string> m_t;
    FindCtx& m_fc;
    std::size_t m_i = 0;
    bool m_action = false;
};

bool spawn_wait(FindCtx& fc, std::vector<std::string>& words) {
    std::vector<char*> argv;
    for (std::string& w : words)
        argv.push_back(w.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    if (rc != 0) {
        fc.c.fail_errno(words[0], rc);
        return false;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

// Remove an extracted copy (a directory tree by a spawned rm).
void remove_local(const std::string& local) {
    struct stat lst;
    if (lstat(local.c_str(), &lst) != 0)
        return;
    if (S_ISDIR(lst.st_mode)) {
        const char* rm[] = {"rm", "-rf", "--", local.c_str(), nullptr};
        pid_t p2;
        if (posix_spawnp(&p2, "rm", nullptr, nullptr, const_cast<char**>(rm), environ) == 0) {
            int s2;
            waitpid(p2, &s2, 0);
        }
    } else {
        unlink(local.c_str());
    }
}

// Run a "{} +" command on the copies gathered so far.
void flush_exec(FindCtx& fc, FindNode& n) {
    if (n.pending.empty())
        return;
    std::vector<std::string> words = n.argv;
    words.insert(words.end(), n.pending.begin(), n.pending.end());
    if (!spawn_wait(fc, words))
        fc.c.status = 1;
    for (const std::string& p : n.pending) {
        remove_local(p);
        rmdir(dir_name(p).c_str());
    }
    n.pending.clear();
}

void flush_all(FindCtx& fc, FindNode& n) {
    for (auto& k : n.kids)
        flush_all(fc, *k);
    if (n.kind == FindNode::Exec && n.plus)
        flush_exec(fc, n);
}

bool run_exec(FindCtx& fc, const FindNode& cn, const std::string& path) {
    auto& n = const_cast<FindNode&>(cn);
    if (n.plus) {
        // Each copy in its own directory, so that equal names do not meet.
        std::string dir = fmt::format("{}/{}", fc.tmpdir, ++fc.copies);
        if (mkdir(dir.c_str(), 0700) != 0) {
            fc.c.fail_errno(dir, errno);
            return true;
        }
        std::string local = extract_temp(fc.c, path, dir);
        if (local.empty()) {
            rmdir(dir.c_str());
            fc.c.status = 1;
            return true;
        }
        n.pending.push_back(local);
        if (n.pending.size() >= 256)
            flush_exec(fc, n);
        return true;
    }
    std::string local = extract_temp(fc.c, path, fc.tmpdir);
    if (local.empty())
        return false;
    std::vector<std::string> words;
    for (const std::string& a : n.argv) {
        std::string w;
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (a.compare(i, 2, "{}") == 0) {
                w += local;
                ++i;
            } else {
                w += a[i];
            }
        }
        words.push_back(std::move(w));
    }
    bool ok = spawn_wait(fc, words);
    remove_local(local);
    return ok;
}

bool eval(FindCtx& fc, const FindNode& n, const std::string& path, const struct stat& st) {
    using K = FindNode::Kind;
    auto cmpnum = [&](std::int64_t v) { return n.cmp == 0 ? v == n.n : n.cmp > 0 ? v > n.n : v < n.n; };
    switch (n.kind) {
    case K::And: return eval(fc, *n.kids[0], path, st) && eval(fc, *n.kids[1], path, st);
    case K::Or: return eval(fc, *n.kids[0], path, st) || eval(fc, *n.kids[1], path, st);
    case K::Not: return !eval(fc, *n.kids[0], path, st);
    case K::True: return true;
    case K::False: return false;
    case K::Name: return fnmatch(n.s.c_str(), base_name(path).c_str(), FNM_PERIOD & 0) == 0;
    case K::IName: return fnmatch(n.s.c_str(), base_name(path).c_str(), FNM_CASEFOLD) == 0;
    case K::Path: return fnmatch(n.s.c_str(), path.c_str(), 0) == 0;
    case K::Type: {
        mode_t f = st.st_mode & S_IFMT;
        switch (n.s[0]) {
        case 'b': return f == S_IFBLK;
        case 'c': return f == S_IFCHR;
        case 'd': return f == S_IFDIR;
        case 'f': return f == S_IFREG;
        case 'l': return f == S_IFLNK;
        case 'p': return f == S_IFIFO;
        default: return f == S_IFSOCK;
        }
    }
    case K::Size: return cmpnum((st.st_size + n.unit - 1) / n.unit);
    case K::Mtime: {
        std::int64_t age = fc.now - st.st_mtim.tv_sec;
        return cmpnum(static_cast<std::int64_t>(std::floor(static_cast<double>(age) / 86400)));
    }
    case K::Mmin: {
        std::int64_t age = fc.now - st.st_mtim.tv_sec;
        return cmpnum(static_cast<std::int64_t>(std::ceil(static_cast<double>(age) / 60)));
    }
    case K::Newer:
        return st.st_mtim.tv_sec > n.t.tv_sec ||
               (st.st_mtim.tv_sec == n.t.tv_sec && st.st_mtim.tv_nsec > n.t.tv_nsec);
    case K::Links: return cmpnum(static_cast<std::int64_t>(st.st_nlink));
    case K::Inum: return cmpnum(static_cast<std::int64_t>(st.st_ino));
    case K::User: {
        auto u = parse_user(n.s);
        return u && *u == st.st_uid;
    }
    case K::Group: {
        auto g = parse_group(n.s);
        return g && *g == st.st_gid;
    }
    case K::Perm: {
        auto m = static_cast<mode_t>(n.n);
        mode_t p = st.st_mode & 07777;
        return n.cmp == 0 ? p == m : n.cmp > 0 ? (p & m) == m : (m == 0 || (p & m) != 0);
    }
    case K::Empty:
        if (S_ISREG(st.st_mode))
            return st.st_size == 0;
        if (S_ISDIR(st.st_mode)) {
            auto l = fc.c.mnt->list(path);
            if (!l)
                return false;
            for (const uk::DirEntry& e : *l)
                if (e.name != "." && e.name != "..")
                    return false;
            return true;
        }
        return false;
    case K::Prune: fc.prune = true; return true;
    case K::Print: fmt::print("{}\n", path); return true;
    case K::Print0:
        std::fwrite(path.data(), 1, path.size(), stdout);
        std::fputc(0, stdout);
        return true;
    case K::Exec: return run_exec(fc, n, path);
    }
    return false;
}

void walk(FindCtx& fc, const FindNode& expr, const std::string& path, const struct stat& st, int depth) {
    fc.prune = false;
    bool in_range = depth >= fc.mindepth;
    if (!fc.depth_first && in_range)
        (void)eval(fc, expr, path, st);
    bool descend = S_ISDIR(st.st_mode) && !fc.prune && (fc.maxdepth < 0 || depth < fc.maxdepth);
    if (descend) {
        auto list = fc.c.mnt->list(path);
        if (!list) {
            fc.c.fail(path, list.error());
        } else {
            for (const uk::DirEntry& e : *list) {
                if (e.name == "." || e.name == "..")
                    continue;
                std::string p = join(path, e.name);
                if (bad_name(e.name)) {
                    fc.c.warnx("{}: bad name in directory", p);
                    continue;
                }
                auto cst = fc.c.mnt->stat(p, uk::Follow::no);
                if (!cst) {
                    fc.c.fail(p, cst.error());
                    continue;
                }
                walk(fc, expr, p, *cst, depth + 1);
            }
        }
    }
    if (fc.depth_first && in_range)
        (void)eval(fc, expr, path, st);
}

}  // namespace

int cmd_find(Ctx& c, std::vector<std::string>& args) {
    std::vector<std::string> paths, expr;
    std::size_t i = 1;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if ((a.size() > 1 && a[0] == '-') || a == "(" || a == "!")
            break;
        paths.push_back(a);
    }
    expr.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    if (paths.empty())
        paths.push_back(".");
    FindCtx fc(c);
    FindParser parser(c, expr, fc);
    bool action = false, ok = false;
    auto e = parser.parse(&action, &ok);
    if (!ok)
        return 1;
    if (!action) {
        auto and_node = std::make_unique<FindNode>();
        and_node->kind = FindNode::And;
        and_node->kids.push_back(std::move(e));
        auto pr = std::make_unique<FindNode>();
        pr->kind = FindNode::Print;
        and_node->kids.push_back(std::move(pr));
        e = std::move(and_node);
    }
    char tmpl[] = "/tmp/fsu-find.XXXXXX";
    bool need_tmp = false;
    for (const std::string& t : expr)
        need_tmp |= t == "-exec";
    if (need_tmp) {
        const char* base = std::getenv("TMPDIR");
        std::string t = std::string(base && *base ? base : "/tmp") + "/fsu-find.XXXXXX";
        std::vector<char> buf(t.begin(), t.end());
        buf.push_back(0);
        if (!mkdtemp(buf.data())) {
            c.fail_errno(tmpl, errno);
            return 1;
        }
        fc.tmpdir = buf.data();
    }
    for (const std::string& p : paths) {
        auto st = c.mnt->stat(p, uk::Follow::no);
        if (!st) {
            c.fail(p, st.error());
            continue;
        }
        walk(fc, *e, p, *st, 0);
    }
    flush_all(fc, *e);
    if (!fc.tmpdir.empty())
        rmdir(fc.tmpdir.c_str());
    return c.status;
}

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
