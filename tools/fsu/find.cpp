// find: walk a tree in the image, evaluate the expression, and run -exec on extracted copies
// as fs-utils' fsu_exec does.
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

}  // namespace fsu
