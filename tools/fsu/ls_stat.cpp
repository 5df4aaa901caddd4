// ls, stat, cat, df: the commands that show what the image holds.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ctime>
#include <sys/sysmacros.h>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fsu.hpp"

namespace fsu {
namespace {

struct Entry {
    std::string name;  // as shown
    std::string path;  // in the image
    struct stat st {};
    std::string target;  // symlinks, with -l
};

struct LsOpts {
    bool all = false, almost = false, dir_itself = false, longf = false, numeric = false;
    bool inode = false, size_blocks = false, classify = false, recursive = false;
    bool reverse = false, by_time = false, by_size = false, atime = false, ctime = false;
    bool json = false, unsorted = false;
    bool no_owner = false, no_group = false;  // POSIX -g, -o
    char layout = '1';  // '1' one per line, 'C' columns down, 'x' columns across
};

std::size_t screen_width() {
    if (const char* c = std::getenv("COLUMNS")) {
        long v = std::atol(c);
        if (v > 0 && v < 100000)
            return static_cast<std::size_t>(v);
    }
    winsize ws{};
    if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

// As POSIX ls -C/-x: the most columns that fit the width, two spaces between columns.
void print_columns(const std::vector<std::string>& cells, bool across) {
    if (cells.empty())
        return;
    const std::size_t width = screen_width(), n = cells.size();
    std::size_t cols = 1, rows = n;
    std::vector<std::size_t> widths;
    for (std::size_t try_cols = std::min(n, std::max<std::size_t>(1, width / 3)); try_cols >= 1; --try_cols) {
        std::size_t r = (n + try_cols - 1) / try_cols;
        std::vector<std::size_t> w(try_cols, 0);
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t col = across ? i % try_cols : i / r;
            w[col] = std::max(w[col], cells[i].size());
        }
        std::size_t total = 0;
        for (std::size_t k = 0; k < try_cols; ++k)
            total += w[k] + (k + 1 < try_cols ? 2 : 0);
        if (total < width || try_cols == 1) {
            cols = try_cols;
            rows = r;
            widths = std::move(w);
            break;
        }
    }
    // Padding as the BSD and GNU tools do: tabs to the 8-column stops, then spaces.
    auto indent = [](std::string& line, std::size_t from, std::size_t to) {
        while (from < to) {
            if (to / 8 > (from + 1) / 8) {
                line += '\t';
                from += 8 - from % 8;
            } else {
                line += ' ';
                ++from;
            }
        }
    };
    for (std::size_t row = 0; row < rows; ++row) {
        std::string line;
        std::size_t pos = 0;
        for (std::size_t col = 0; col < cols; ++col) {
            std::size_t i = across ? row * cols + col : col * rows + row;
            if (i >= n)
                break;
            std::size_t next = across ? i + 1 : i + rows;
            bool last = col + 1 == cols || next >= n;
            line += cells[i];
            if (!last)
                indent(line, pos + cells[i].size(), pos + widths[col] + 2);
            pos += widths[col] + 2;
        }
        fmt::print("{}\n", line);
    }
}

const timespec& shown_time(const LsOpts& o, const struct stat& st) {
    return o.atime ? st.st_atim : o.ctime ? st.st_ctim : st.st_mtim;
}

void sort_entries(const LsOpts& o, std::vector<Entry>& v) {
    if (o.unsorted)
        return;
    std::stable_sort(v.begin(), v.end(), [&](const Entry& a, const Entry& b) {
        if (o.by_size && a.st.st_size != b.st.st_size)
            return a.st.st_size > b.st.st_size;
        if (o.by_time) {
            const timespec &ta = shown_time(o, a.st), &tb = shown_time(o, b.st);
            if (ta.tv_sec != tb.tv_sec)
                return ta.tv_sec > tb.tv_sec;
            if (ta.tv_nsec != tb.tv_nsec)
                return ta.tv_nsec > tb.tv_nsec;
        }
        return std::strcmp(a.name.c_str(), b.name.c_str()) < 0;
    });
    if (o.reverse)
        std::reverse(v.begin(), v.end());
}

std::string ls_time(const timespec& t) {
    // POSIX/GNU: "Mon dd hh:mm" within six months of now, "Mon dd  yyyy" otherwise.
    time_t now = std::time(nullptr);
    struct tm tm {};
    time_t sec = t.tv_sec;
    localtime_r(&sec, &tm);
    char buf[64];
    bool recent = sec <= now && now - sec < 31556952 / 2;
    std::strftime(buf, sizeof buf, recent ? "%b %e %H:%M" : "%b %e  %Y", &tm);
    return buf;
}

bool is_dev(const struct stat& st) { return S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode); }

// The size column; devices show "major, minor", each part aligned within the listing.
std::string size_field(const struct stat& st, std::size_t w_major = 0, std::size_t w_minor = 0) {
    if (is_dev(st))
        return fmt::format("{:>{}}, {:>{}}", major(st.st_rdev), w_major, minor(st.st_rdev), w_minor);
    return std::to_string(st.st_size);
}

std::uint64_t kblocks(const struct stat& st) {
    return (static_cast<std::uint64_t>(st.st_blocks) + 1) / 2;
}

std::string mode_octal(mode_t m) { return fmt::format("{:o}", m & 07777); }

std::string json_entry(const Entry& e) {
    const struct stat& st = e.st;
    std::string s = fmt::format(
        "{{\"name\":{},\"path\":{},\"type\":{},\"mode_string\":{},\"mode\":\"{}\",\"nlink\":{},"
        "\"uid\":{},\"gid\":{},\"user\":{},\"group\":{},\"size\":{},\"blocks\":{},\"ino\":{},"
        "\"atime\":{}.{:09},\"mtime\":{}.{:09},\"ctime\":{}.{:09}",
        json_string(e.name), json_string(e.path), json_string(type_name(st.st_mode)),
        json_string(mode_string(st.st_mode)), mode_octal(st.st_mode), st.st_nlink, st.st_uid,
        st.st_gid, json_string(user_name(st.st_uid)), json_string(group_name(st.st_gid)),
        st.st_size, st.st_blocks, st.st_ino, st.st_atim.tv_sec, st.st_atim.tv_nsec,
        st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        s += fmt::format(",\"rdev_major\":{},\"rdev_minor\":{}", major(st.st_rdev), minor(st.st_rdev));
    if (S_ISLNK(st.st_mode))
        s += ",\"target\":" + json_string(e.target);
    return s + "}";
}

class Lister {
public:
    Lister(Ctx& c, const LsOpts& o) : m_c(c), m_o(o) {}

    void print_block(std::vector<Entry>& v, bool total) {
        sort_entries(m_o, v);
        if (m_o.json) {
            for (const Entry& e : v) {
                fmt::print("{}{}", m_first_json ? "" : ",\n", json_entry(e));
                m_first_json = false;
            }
            return;
        }
        std::size_t w_ino = 0, w_blk = 0, w_nl = 0, w_user = 0, w_group = 0, w_size = 0;
        std::size_t w_major = 0, w_minor = 0;
        for (const Entry& e : v) {
            if (is_dev(e.st)) {
                w_major = std::max(w_major, std::to_string(major(e.st.st_rdev)).size());
                w_minor = std::max(w_minor, std::to_string(minor(e.st.st_rdev)).size());
            }
        }
        std::uint64_t sum = 0;
        for (const Entry& e : v) {
            w_ino = std::max(w_ino, std::to_string(e.st.st_ino).size());
            w_blk = std::max(w_blk, std::to_string(kblocks(e.st)).size());
            w_nl = std::max(w_nl, std::to_string(e.st.st_nlink).size());
            w_user = std::max(w_user, owner(e.st).size());
            w_group = std::max(w_group, grp(e.st).size());
            w_size = std::max(w_size, size_field(e.st, w_major, w_minor).size());
            sum += kblocks(e.st);
        }
        if (total && (m_o.longf || m_o.size_blocks))
            fmt::print("total {}\n", sum);
        std::vector<std::string> cells;
        for (const Entry& e : v) {
            std::string line;
            if (m_o.inode)
                line += fmt::format("{:>{}} ", e.st.st_ino, w_ino);
            if (m_o.size_blocks)
                line += fmt::format("{:>{}} ", kblocks(e.st), w_blk);
            if (m_o.longf) {
                line += fmt::format("{} {:>{}} ", mode_string(e.st.st_mode), e.st.st_nlink, w_nl);
                // Names are left-aligned, numbers (-n, or no name) right-aligned, as ls does.
                auto id = [](const std::string& v, std::size_t w) {
                    bool digits = v.find_first_not_of("0123456789") == std::string::npos;
                    return digits ? fmt::format("{:>{}} ", v, w) : fmt::format("{:<{}} ", v, w);
                };
                if (!m_o.no_owner)
                    line += id(owner(e.st), w_user);
                if (!m_o.no_group)
                    line += id(grp(e.st), w_group);
                line += fmt::format("{:>{}} {} ", size_field(e.st, w_major, w_minor), w_size,
                                    ls_time(shown_time(m_o, e.st)));
            }
            line += e.name;
            if (m_o.longf && S_ISLNK(e.st.st_mode))
                line += " -> " + e.target;
            else if (m_o.classify)
                if (char t = type_char(e.st.st_mode))
                    line += t;
            cells.push_back(std::move(line));
        }
        if (m_o.longf || m_o.layout == '1')
            for (const std::string& l : cells)
                fmt::print("{}\n", l);
        else
            print_columns(cells, m_o.layout == 'x');
    }

    uk::Result<void> fill(Entry& e, uk::Follow follow) {
        auto st = m_c.mnt->stat(e.path, follow);
        if (!st)
            return st.error();
        e.st = *st;
        if (S_ISLNK(e.st.st_mode) && m_o.longf) {
            auto t = m_c.mnt->readlink(e.path);
            if (t)
                e.target = *t;
        }
        return {};
    }

    void list_dir(const std::string& path, const std::string& shown, bool header) {
        auto list = m_c.mnt->list(path);
        if (!list) {
            m_c.fail(shown, list.error());
            return;
        }
        if (header && !m_o.json)
            fmt::print("{}{}:\n", m_printed ? "\n" : "", shown);
        m_printed = true;
        std::vector<Entry> v;
        bool have_dot = false, have_dotdot = false;
        for (const uk::DirEntry& d : *list) {
            if (d.name == ".")
                have_dot = true;
            if (d.name == "..")
                have_dotdot = true;
            if (d.name.starts_with('.') && !m_o.all &&
                (!m_o.almost || d.name == "." || d.name == ".."))
                continue;
            if (d.name != "." && d.name != ".." && bad_name(d.name)) {
                m_c.warnx("{}: bad name in directory", join(shown, d.name));
                continue;
            }
            Entry e;
            e.name = d.name;
            e.path = d.name == "." ? path : d.name == ".." ? join(path, "..") : join(path, d.name);
            v.push_back(std::move(e));
        }
        if (m_o.all) {  // a driver that does not list . and .. still shows them
            if (!have_dot)
                v.push_back(Entry{".", path, {}, {}});
            if (!have_dotdot)
                v.push_back(Entry{"..", join(path, ".."), {}, {}});
        }
        std::vector<Entry> ok;
        for (Entry& e : v) {
            auto r = fill(e, uk::Follow::no);
            if (!r)
                m_c.fail(join(shown, e.name), r.error());
            else
                ok.push_back(std::move(e));
        }
        print_block(ok, true);
        if (m_o.recursive) {
            sort_entries(m_o, ok);
            for (const Entry& e : ok)
                if (S_ISDIR(e.st.st_mode) && e.name != "." && e.name != "..")
                    list_dir(e.path, join(shown, e.name), true);
        }
    }

    void run(std::vector<std::string> operands) {
        bool implicit = operands.empty();
        if (implicit)
            operands.push_back(".");
        std::vector<Entry> files, dirs;
        for (const std::string& op : operands) {
            Entry e{op, op, {}, {}};
            bool follow = !(m_o.longf || m_o.dir_itself || m_o.classify);
            auto r = fill(e, follow ? uk::Follow::yes : uk::Follow::no);
            if (!r && follow && r.error().errnum() == ENOENT)
                r = fill(e, uk::Follow::no);  // a dangling link still lists
            if (!r) {
                m_c.fail(op, r.error());
                continue;
            }
            if (S_ISDIR(e.st.st_mode) && !m_o.dir_itself)
                dirs.push_back(std::move(e));
            else
                files.push_back(std::move(e));
        }
        if (m_o.json)
            fmt::print("[");
        if (!files.empty()) {
            print_block(files, false);
            m_printed = true;
        }
        sort_entries(m_o, dirs);
        bool headers = dirs.size() + files.size() > 1 || m_o.recursive || m_c.status != 0;
        for (const Entry& d : dirs)
            list_dir(d.path, d.name, headers);
        if (m_o.json)
            fmt::print("]\n");
    }

private:
    std::string owner(const struct stat& st) const {
        return m_o.numeric ? std::to_string(st.st_uid) : user_name(st.st_uid);
    }
    std::string grp(const struct stat& st) const {
        return m_o.numeric ? std::to_string(st.st_gid) : group_name(st.st_gid);
    }
    Ctx& m_c;
    const LsOpts& m_o;
    bool m_printed = false;
    bool m_first_json = true;
};

}  // namespace

int cmd_ls(Ctx& c, std::vector<std::string>& args) {
    LsOpts o;
    o.layout = isatty(1) ? 'C' : '1';
    Getopt g(args, "1ACacdFfgilnoRrSstux", true);
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case '1': o.layout = '1'; break;
        case 'C': o.layout = 'C'; o.longf = false; break;
        case 'x': o.layout = 'x'; o.longf = false; break;
        case 'A': o.almost = true; break;
        case 'a': o.all = true; break;
        case 'c': o.ctime = true; o.atime = false; break;
        case 'u': o.atime = true; o.ctime = false; break;
        case 'd': o.dir_itself = true; break;
        case 'F': o.classify = true; break;
        case 'f': o.unsorted = o.all = true; break;
        case 'i': o.inode = true; break;
        case 'l': o.longf = true; o.layout = '1'; break;
        case 'g': o.longf = o.no_owner = true; o.layout = '1'; break;
        case 'o': o.longf = o.no_group = true; o.layout = '1'; break;
        case 'n': o.longf = o.numeric = true; break;
        case 'R': o.recursive = true; break;
        case 'r': o.reverse = true; break;
        case 'S': o.by_size = true; break;
        case 's': o.size_blocks = true; break;
        case 't': o.by_time = true; break;
        case 'J': o.json = o.longf = true; break;
        default:
            fmt::print(stderr, "usage: {} [-1ACacdFfgilnoRrSstux] [--json] [file ...]\n", c.prog);
            return 2;
        }
    }
    Lister l(c, o);
    l.run(g.operands());
    return c.status;
}

int cmd_cat(Ctx& c, std::vector<std::string>& args) {
    Getopt g(args, "u");
    for (int ch; (ch = g.next()) != -1;)
        if (ch != 'u')
            return 2;
    IoBuffer buf(std::size_t{1} << 17);
    for (const std::string& path : g.operands()) {
        auto f = c.mnt->open_file(path, O_RDONLY);
        if (!f) {
            c.fail(path, f.error());
            continue;
        }
        auto st = f->stat();
        if (st && S_ISDIR(st->st_mode)) {
            c.fail_errno(path, EISDIR);
            continue;
        }
        std::uint64_t off = 0;
        while (true) {
            auto n = f->read(off, buf);
            if (!n) {
                c.fail(path, n.error());
                break;
            }
            if (*n == 0)
                break;
            if (std::fwrite(buf.data(), 1, *n, stdout) != *n) {
                c.fail_errno("stdout", errno);
                return 1;
            }
            off += *n;
        }
    }
    return c.status;
}

// ---- stat: NetBSD stat(1)'s -f format language ------------------------------------------

namespace {

struct StatOpts {
    std::string format, timefmt = "%b %e %H:%M:%S %Y";
    bool follow = false, no_newline = false, quiet = false, raw = false, json = false;
};

std::string fmt_time(const StatOpts& o, const timespec& t, char how, int prec) {
    if (how == 'S') {
        struct tm tm {};
        time_t sec = t.tv_sec;
        localtime_r(&sec, &tm);
        char buf[256];
        if (std::strftime(buf, sizeof buf, o.timefmt.c_str(), &tm) == 0)
            buf[0] = 0;
        return buf;
    }
    std::string s = std::to_string(t.tv_sec);
    if (prec > 0) {
        std::string ns = fmt::format("{:09}", t.tv_nsec);
        s += "." + ns.substr(0, static_cast<std::size_t>(std::min(prec, 9)));
    }
    return s;
}

std::string num(std::uint64_t v, char how, bool alt) {
    switch (how) {
    case 'O': return alt ? fmt::format("{:#o}", v) : fmt::format("{:o}", v);
    case 'X': return alt ? fmt::format("{:#x}", v) : fmt::format("{:x}", v);
    case 'U':
    case 'D':
    default: return std::to_string(v);
    }
}

// Expand one file's format. %[#+-0 ][width][.prec][DOUXFS][HLM](field)
std::string expand(const StatOpts& o, const std::string& f, const std::string& path,
                   const struct stat& st, std::uint32_t flags, const std::string& target) {
    std::string out;
    for (std::size_t i = 0; i < f.size(); ++i) {
        char ch = f[i];
        if (ch == '\\' && i + 1 < f.size()) {
            char e = f[++i];
            out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
            continue;
        }
        if (ch != '%' || i + 1 >= f.size()) {
            out += ch;
            continue;
        }
        ++i;
        if (f[i] == '%') {
            out += '%';
            continue;
        }
        if (f[i] == 'n') {
            out += '\n';
            continue;
        }
        if (f[i] == 't') {
            out += '\t';
            continue;
        }
        bool alt = false, left = false, zero = false, plus = false, space = false;
        for (; i < f.size() && std::strchr("#+-0 ", f[i]); ++i) {
            alt |= f[i] == '#';
            left |= f[i] == '-';
            zero |= f[i] == '0';
            plus |= f[i] == '+';
            space |= f[i] == ' ';
        }
        std::size_t width = 0;
        for (; i < f.size() && f[i] >= '0' && f[i] <= '9' && width < 1000; ++i)
            width = width * 10 + static_cast<std::size_t>(f[i] - '0');
        int prec = -1;
        if (i < f.size() && f[i] == '.') {
            prec = 0;
            for (++i; i < f.size() && f[i] >= '0' && f[i] <= '9' && prec < 100; ++i)
                prec = prec * 10 + (f[i] - '0');
        }
        char how = 0;
        if (i < f.size() && std::strchr("DOUXFS", f[i]))
            how = f[i++];
        char sub = 0;
        if (i < f.size() && std::strchr("HLM", f[i]))
            sub = f[i++];
        if (i >= f.size())
            break;
        char field = f[i];
        if (o.raw && how == 'S')
            how = 0;
        std::string v;
        switch (field) {
        case 'd': {
            std::uint64_t d = st.st_dev;
            if (sub == 'H')
                d = major(st.st_dev);
            else if (sub == 'L')
                d = minor(st.st_dev);
            v = num(d, how, alt);
            break;
        }
        case 'r': {
            std::uint64_t d = st.st_rdev;
            if (sub == 'H')
                d = major(st.st_rdev);
            else if (sub == 'L')
                d = minor(st.st_rdev);
            v = num(d, how, alt);
            break;
        }
        case 'i': v = num(st.st_ino, how, alt); break;
        case 'p': {
            std::uint64_t m = st.st_mode;
            if (how == 'S') {
                v = mode_string(st.st_mode);
                break;
            }
            if (sub == 'H')
                m = (m & S_IFMT) >> 12;
            else if (sub == 'M')
                m = (m >> 9) & 07;
            else if (sub == 'L')
                m &= 0777;
            v = num(m, how ? how : 'O', alt);
            break;
        }
        case 'l': v = num(st.st_nlink, how, alt); break;
        case 'u': v = how == 'S' ? user_name(st.st_uid) : num(st.st_uid, how, alt); break;
        case 'g': v = how == 'S' ? group_name(st.st_gid) : num(st.st_gid, how, alt); break;
        case 'a': v = fmt_time(o, st.st_atim, how, prec); break;
        case 'm': v = fmt_time(o, st.st_mtim, how, prec); break;
        case 'c': v = fmt_time(o, st.st_ctim, how, prec); break;
        case 'B': v = fmt_time(o, st.st_ctim, how, prec); break;  // no birth time in struct stat
        case 'z': v = num(static_cast<std::uint64_t>(st.st_size), how, alt); break;
        case 'b': v = num(static_cast<std::uint64_t>(st.st_blocks), how, alt); break;
        case 'k': v = num(static_cast<std::uint64_t>(st.st_blksize), how, alt); break;
        case 'f': v = how == 'S' ? flags_string(flags) : num(flags, how, alt); break;
        case 'v': v = "0"; break;
        case 'N': v = path; break;
        case 'T':
            if (sub == 'H' || how == 'S')
                v = type_name(st.st_mode);
            else if (char t = type_char(st.st_mode))
                v = std::string(1, t);
            break;
        case 'Y':
            if (S_ISLNK(st.st_mode))
                v = how == 'S' ? target : " -> " + target;
            break;
        case 'Z':
            if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                v = fmt::format("{},{}", major(st.st_rdev), minor(st.st_rdev));
            else
                v = std::to_string(st.st_size);
            break;
        default:
            v = std::string("%") + field;  // unknown: shown as written
            break;
        }
        if (plus && !v.empty() && v[0] != '-' && std::isdigit(static_cast<unsigned char>(v[0])))
            v = "+" + v;
        else if (space && !v.empty() && std::isdigit(static_cast<unsigned char>(v[0])))
            v = " " + v;
        if (v.size() < width) {
            std::size_t pad = width - v.size();
            if (left)
                v += std::string(pad, ' ');
            else if (zero && !v.empty() && std::isdigit(static_cast<unsigned char>(v[0])))
                v = std::string(pad, '0') + v;
            else
                v = std::string(pad, ' ') + v;
        }
        out += v;
    }
    return out;
}

}  // namespace

int cmd_stat(Ctx& c, std::vector<std::string>& args) {
    StatOpts o;
    bool longf = false, x = false;
    Getopt g(args, "FLlnqrxf:t:", true);
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case 'L': o.follow = true; break;
        case 'F': break;
        case 'l': longf = true; break;
        case 'n': o.no_newline = true; break;
        case 'q': o.quiet = true; break;
        case 'r': o.raw = true; break;
        case 'x': x = true; break;
        case 'f': o.format = g.arg(); break;
        case 't': o.timefmt = g.arg(); break;
        case 'J': o.json = true; break;
        default:
            fmt::print(stderr, "usage: {} [-FLlnqrx] [-f format] [-t timefmt] [--json] file ...\n",
                       c.prog);
            return 2;
        }
    }
    if (o.format.empty()) {
        if (longf)
            o.format = "%Sp %l %Su %Sg %Z %Sm %N%Y";
        else if (x)
            o.format =
                "  File: \"%N\"%n  Size: %-11z FileType: %HT%n  Mode: (%01Mp%03OLp/%.10Sp)         "
                "Uid: (%5u/%8Su)  Gid: (%5g/%8Sg)%nDevice: %Hd,%Ld   Inode: %i    Links: %l%n"
                "Access: %Sa%nModify: %Sm%nChange: %Sc";
        else
            o.format = "%d %i %Sp %l %Su %Sg %r %z \"%Sa\" \"%Sm\" \"%Sc\" \"%SB\" %k %b %#Xf %N";
        if (longf)
            o.timefmt = "%b %e %H:%M:%S %Y";
    }
    auto ops = g.operands();
    if (ops.empty()) {
        fmt::print(stderr, "usage: {} [-FLlnqrx] [-f format] [-t timefmt] [--json] file ...\n",
                   c.prog);
        return 2;
    }
    if (o.json)
        fmt::print("[");
    bool first = true;
    for (const std::string& path : ops) {
        uk::Follow fl = o.follow ? uk::Follow::yes : uk::Follow::no;
        auto st = c.mnt->stat(path, fl);
        if (!st) {
            if (o.quiet)
                c.status = 1;
            else
                c.fail(path, st.error());
            continue;
        }
        std::uint32_t flags = c.mnt->flags(path, fl).value_or(0);
        std::string target;
        if (S_ISLNK(st->st_mode))
            target = c.mnt->readlink(path).value_or("");
        if (o.json) {
            Entry e{path, path, *st, target};
            std::string j = json_entry(e);
            j.pop_back();
            fmt::print("{}{},\"flags\":{},\"flags_names\":{}}}", first ? "" : ",\n", j, flags,
                       json_string(flags_string(flags)));
            first = false;
            continue;
        }
        fmt::print("{}{}", expand(o, o.format, path, *st, flags, target), o.no_newline ? "" : "\n");
    }
    if (o.json)
        fmt::print("]\n");
    return c.status;
}

// ---- df ----------------------------------------------------------------------------------

int cmd_df(Ctx& c, std::vector<std::string>& args) {
    bool human = false, inodes = false, posix = false, json = false;
    std::uint64_t unit = 1024;
    Getopt g(args, "hikPm", true);
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case 'h': human = true; break;
        case 'i': inodes = true; break;
        case 'k': unit = 1024; break;
        case 'm': unit = 1 << 20; break;
        case 'P': posix = true; break;
        case 'J': json = true; break;
        default: fmt::print(stderr, "usage: {} [-hikmP] [--json]\n", c.prog); return 2;
        }
    }
    auto fs = c.mnt->statfs();
    if (!fs) {
        c.fail(c.image, fs.error());
        return 1;
    }
    const uk::FsStats& s = *fs;
    if (json) {
        fmt::print(
            "{{\"filesystem\":{},\"type\":{},\"block_size\":{},\"blocks\":{},\"blocks_free\":{},"
            "\"blocks_avail\":{},\"files\":{},\"files_free\":{},\"name_max\":{},\"read_only\":{}}}\n",
            json_string(c.image), json_string(c.mnt->type()), s.block_size, s.blocks,
            s.blocks_free, s.blocks_avail, s.files, s.files_free, s.name_max,
            c.mnt->read_only() ? "true" : "false");
        return 0;
    }
    auto human_str = [](std::uint64_t bytes) {
        const char* units = "BKMGTPE";
        double v = static_cast<double>(bytes);
        int u = 0;
        while (v >= 1024 && u < 6) {
            v /= 1024;
            ++u;
        }
        if (u == 0)
            return fmt::format("{}", bytes);
        if (v < 10)
            return fmt::format("{:.1f}{}", std::ceil(v * 10) / 10, units[u]);
        return fmt::format("{:.0f}{}", std::ceil(v), units[u]);
    };
    auto pct = [](std::uint64_t used, std::uint64_t avail) -> std::string {
        if (used + avail == 0)
            return "-";
        return fmt::format("{}%", (used * 100 + used + avail - 1) / (used + avail));
    };
    if (inodes) {
        std::uint64_t used = s.files - std::min(s.files, s.files_free);
        fmt::print("{:<20} {:>10} {:>10} {:>10} {:>5} {}\n", "Filesystem", "Inodes", "IUsed",
                   "IFree", "IUse%", "Mounted on");
        fmt::print("{:<20} {:>10} {:>10} {:>10} {:>5} {}\n", c.image, s.files, used, s.files_free,
                   pct(used, s.files_free), "/");
        return 0;
    }
    std::uint64_t total = s.blocks * s.block_size, freeb = s.blocks_free * s.block_size,
                  avail = s.blocks_avail * s.block_size;
    std::uint64_t used = total - std::min(total, freeb);
    std::string head = human ? "Size" : posix ? fmt::format("{}-blocks", unit) : unit == 1024 ? "1K-blocks" : "1M-blocks";
    auto show = [&](std::uint64_t b) { return human ? human_str(b) : std::to_string(b / unit); };
    std::uint64_t used_u = human ? used : used / unit, avail_u = human ? avail : avail / unit;
    fmt::print("{:<20} {:>10} {:>10} {:>10} {:>8} {}\n", "Filesystem", head, "Used",
               human ? "Avail" : "Available", posix ? "Capacity" : "Use%", "Mounted on");
    fmt::print("{:<20} {:>10} {:>10} {:>10} {:>8} {}\n", c.image, show(total), show(used),
               show(avail), pct(used_u, avail_u), "/");
    return 0;
}

}  // namespace fsu
