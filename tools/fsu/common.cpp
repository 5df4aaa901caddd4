// Helpers shared by the subcommands: error printing, option parsing, names and modes.
#include "fsu.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>

#include <ukfs/netbsd.h>

namespace fsu {

void Ctx::fail(std::string_view what, const uk::Error& e) {
    // Ordinary errors read as the POSIX tools print them; a damaged image also gets the
    // driver's explanation.
    bool explain = !e.message().empty() &&
                   (e.errnum() == EIO || e.errnum() == EINVAL || e.errnum() == EFBIG ||
                    e.errnum() == EOVERFLOW || e.errnum() == ENOTSUP || e.errnum() == ENODEV);
    std::fflush(stdout);
    if (explain)
        fmt::print(stderr, "{}: {}: {}\n", prog, what, e.describe());
    else
        fmt::print(stderr, "{}: {}: {}\n", prog, what, std::strerror(e.errnum()));
    status = 1;
}

void Ctx::fail_errno(std::string_view what, int err) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: {}: {}\n", prog, what, std::strerror(err));
    status = 1;
}

Getopt::Getopt(std::vector<std::string>& args, const char* optstring, bool json_allowed)
    : m_args(args), m_optstring(std::string("+") + optstring), m_json(json_allowed) {
    for (std::string& a : m_args)
        m_argv.push_back(a.data());
    m_argv.push_back(nullptr);
    optind = 0;  // glibc: start afresh (the shell parses many command lines)
    opterr = 1;
}

int Getopt::next() {
    // The long options of any command: --json (ls, stat, df) and --no-dereference (diff).
    static const option longs[] = {{"json", no_argument, nullptr, 'J'},
                                   {"no-dereference", no_argument, nullptr, 'N'},
                                   {nullptr, 0, nullptr, 0}};
    int c = getopt_long(static_cast<int>(m_argv.size() - 1), m_argv.data(), m_optstring.c_str(),
                        longs, nullptr);
    m_arg = optarg;
    if ((c == 'J' && !m_json) || (c == 'N' && m_optstring.find('N') == std::string::npos)) {
        fmt::print(stderr, "{}: unrecognized option '{}'\n", m_argv[0],
                   m_argv[static_cast<std::size_t>(optind) - 1]);
        return '?';
    }
    return c;
}

std::vector<std::string> Getopt::operands() const {
    std::vector<std::string> out;
    for (std::size_t i = static_cast<std::size_t>(optind); i + 1 < m_argv.size(); ++i)
        out.emplace_back(m_argv[i]);
    return out;
}

std::string join(std::string_view dir, std::string_view name) {
    std::string s(dir);
    if (s.empty())
        return std::string(name);
    if (s.back() != '/')
        s += '/';
    s += name;
    return s;
}

std::string base_name(std::string_view path) {
    while (path.size() > 1 && path.back() == '/')
        path.remove_suffix(1);
    if (path == "/")
        return "/";
    auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string dir_name(std::string_view path) {
    while (path.size() > 1 && path.back() == '/')
        path.remove_suffix(1);
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos)
        return ".";
    if (slash == 0)
        return "/";
    return std::string(path.substr(0, slash));
}

std::optional<std::uint32_t> parse_octal(const std::string& s) {
    char* end = nullptr;
    errno = 0;
    const unsigned long v = std::strtoul(s.c_str(), &end, 8);
    if (s.empty() || *end != '\0' || errno != 0 || v > 07777)
        return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

std::optional<std::uint64_t> parse_number(const std::string& s, std::uint64_t max) {
    if (s.empty() || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return std::nullopt;
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    if (errno != 0 || end == s.c_str() || *end != '\0' || v > max)
        return std::nullopt;
    return v;
}

std::optional<std::int64_t> source_date_epoch() {
    const char* s = std::getenv("SOURCE_DATE_EPOCH");
    if (s == nullptr || *s == '\0' || std::strspn(s, "0123456789") != std::strlen(s))
        return std::nullopt;  // decimal digits only, as the specification has it
    const auto n = parse_number(s, INT64_MAX);
    if (!n)
        return std::nullopt;
    return static_cast<std::int64_t>(*n);
}

std::optional<std::uint64_t> parse_size(const std::string& s) {
    char* end = nullptr;
    errno = 0;
    std::uint64_t n = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || s[0] == '-' || errno != 0 || end == s.c_str())
        return std::nullopt;
    int shift = 0;
    switch (*end) {
    case 'k':
    case 'K': shift = 10; break;
    case 'm':
    case 'M': shift = 20; break;
    case 'g':
    case 'G': shift = 30; break;
    case 't':
    case 'T': shift = 40; break;
    default: break;
    }
    if (shift != 0) {
        ++end;
        if (n > (UINT64_MAX >> shift))
            return std::nullopt;
        n <<= shift;
    }
    if (*end != '\0')
        return std::nullopt;
    return n;
}

bool bad_name(std::string_view name) {
    return name.empty() || name == "." || name == ".." ||
           name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos;
}

std::string mode_string(mode_t mode) {
    std::string s(10, '-');
    switch (mode & S_IFMT) {
    case S_IFDIR: s[0] = 'd'; break;
    case S_IFLNK: s[0] = 'l'; break;
    case S_IFCHR: s[0] = 'c'; break;
    case S_IFBLK: s[0] = 'b'; break;
    case S_IFIFO: s[0] = 'p'; break;
    case S_IFSOCK: s[0] = 's'; break;
    default: break;
    }
    const char* rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; ++i)
        if (mode & (1u << (8 - i)))
            s[static_cast<std::size_t>(i + 1)] = rwx[i];
    if (mode & S_ISUID)
        s[3] = (mode & S_IXUSR) ? 's' : 'S';
    if (mode & S_ISGID)
        s[6] = (mode & S_IXGRP) ? 's' : 'S';
    if (mode & S_ISVTX)
        s[9] = (mode & S_IXOTH) ? 't' : 'T';
    return s;
}

std::string user_name(uid_t uid) {
    static std::map<uid_t, std::string> cache;
    auto it = cache.find(uid);
    if (it != cache.end())
        return it->second;
    const passwd* pw = getpwuid(uid);
    return cache[uid] = pw ? pw->pw_name : std::to_string(uid);
}

std::string group_name(gid_t gid) {
    static std::map<gid_t, std::string> cache;
    auto it = cache.find(gid);
    if (it != cache.end())
        return it->second;
    const group* gr = getgrgid(gid);
    return cache[gid] = gr ? gr->gr_name : std::to_string(gid);
}

namespace {
std::optional<unsigned long> parse_number(std::string_view s) {
    if (s.empty() || s.size() > 10)
        return std::nullopt;
    unsigned long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return std::nullopt;
        v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (v > 0xffffffffUL)
        return std::nullopt;
    return v;
}
}  // namespace

std::optional<uid_t> parse_user(std::string_view s) {
    std::string name(s);
    if (const passwd* pw = getpwnam(name.c_str()))
        return pw->pw_uid;
    if (auto n = parse_number(s))
        return static_cast<uid_t>(*n);
    return std::nullopt;
}

std::optional<gid_t> parse_group(std::string_view s) {
    std::string name(s);
    if (const group* gr = getgrnam(name.c_str()))
        return gr->gr_gid;
    if (auto n = parse_number(s))
        return static_cast<gid_t>(*n);
    return std::nullopt;
}

std::string json_string(std::string_view s) {
    // Valid UTF-8 passes through; any other byte is written as \u00XX (read as Latin-1), so the
    // output stays valid JSON whatever names a hostile image holds.
    std::string out = "\"";
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\u{:04x}", c);
            ++i;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
        } else {
            std::size_t len = c >= 0xf0 && c < 0xf5   ? 4
                              : c >= 0xe0             ? 3
                              : c >= 0xc2 && c < 0xe0 ? 2
                                                      : 0;
            bool ok = len != 0 && i + len <= s.size();
            for (std::size_t k = 1; ok && k < len; ++k)
                ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
            if (ok) {
                out.append(s.substr(i, len));
                i += len;
            } else {
                out += fmt::format("\\u{:04x}", c);
                ++i;
            }
        }
    }
    out += '"';
    return out;
}

char type_char(mode_t mode) {
    switch (mode & S_IFMT) {
    case S_IFDIR: return '/';
    case S_IFLNK: return '@';
    case S_IFIFO: return '|';
    case S_IFSOCK: return '=';
    case S_IFREG: return (mode & 0111) ? '*' : 0;
    default: return 0;
    }
}

const char* type_name(mode_t mode) {
    switch (mode & S_IFMT) {
    case S_IFDIR: return "Directory";
    case S_IFLNK: return "Symbolic Link";
    case S_IFCHR: return "Character Device";
    case S_IFBLK: return "Block Device";
    case S_IFIFO: return "FIFO";
    case S_IFSOCK: return "Socket";
    case S_IFREG: return "Regular File";
    default: return "???";
    }
}

namespace {
struct FlagName {
    const char* name;
    std::uint32_t bit;
};
// NetBSD's names (chflags(1)), with the aliases it accepts.
const FlagName flag_names[] = {
    {"arch", SF_ARCHIVED},     {"archived", SF_ARCHIVED},    {"nodump", UF_NODUMP},
    {"opaque", UF_OPAQUE},     {"sappnd", SF_APPEND},        {"sappend", SF_APPEND},
    {"schg", SF_IMMUTABLE},    {"schange", SF_IMMUTABLE},    {"simmutable", SF_IMMUTABLE},
    {"uappnd", UF_APPEND},     {"uappend", UF_APPEND},       {"uchg", UF_IMMUTABLE},
    {"uchange", UF_IMMUTABLE}, {"uimmutable", UF_IMMUTABLE},
};
}  // namespace

std::string flags_string(std::uint32_t flags) {
    static const FlagName shown[] = {
        {"arch", SF_ARCHIVED},  {"nodump", UF_NODUMP}, {"opaque", UF_OPAQUE}, {"sappnd", SF_APPEND},
        {"schg", SF_IMMUTABLE}, {"uappnd", UF_APPEND}, {"uchg", UF_IMMUTABLE}};
    std::string s;
    for (const FlagName& f : shown)
        if (flags & f.bit)
            s += (s.empty() ? "" : ",") + std::string(f.name);
    return s.empty() ? "-" : s;
}

bool parse_flags(std::string_view s, std::uint32_t* set, std::uint32_t* clear) {
    *set = *clear = 0;
    if (!s.empty() && s[0] >= '0' && s[0] <= '7') {  // octal: the whole word
        std::uint32_t v = 0;
        for (char c : s) {
            if (c < '0' || c > '7' || v > 0x0fffffff)
                return false;
            v = v * 8 + static_cast<std::uint32_t>(c - '0');
        }
        *set = v;
        *clear = ~v;
        return true;
    }
    while (!s.empty()) {
        auto comma = s.find(',');
        std::string_view word = s.substr(0, comma);
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
        bool no = false;
        if (word.starts_with("no") && word != "nodump") {
            no = true;
            word.remove_prefix(2);
        } else if (word == "dump") {
            *clear |= UF_NODUMP;
            continue;
        }
        const FlagName* hit = nullptr;
        for (const FlagName& f : flag_names)
            if (word == f.name)
                hit = &f;
        if (!hit)
            return false;
        (no ? *clear : *set) |= hit->bit;
    }
    return true;
}

std::optional<mode_t> apply_mode(std::string_view spec, mode_t old, bool is_dir) {
    if (!spec.empty() && spec[0] >= '0' && spec[0] <= '7') {
        mode_t v = 0;
        for (char c : spec) {
            if (c < '0' || c > '7' || v > 07777)
                return std::nullopt;
            v = v * 8 + static_cast<mode_t>(c - '0');
        }
        if (v > 07777)
            return std::nullopt;
        return v;
    }
    // POSIX: clause[,clause...]; clause = [ugoa]* ( [+-=] ( [rwxXst]* | [ugo] ) )+. With no
    // who, the process's umask masks the bits.
    mode_t mode = old & 07777;
    const mode_t cmask = umask(0);
    umask(cmask);
    std::size_t i = 0;
    if (spec.empty())
        return std::nullopt;
    while (true) {
        mode_t who = 0;
        bool who_given = false;
        for (; i < spec.size() && std::strchr("ugoa", spec[i]); ++i) {
            who_given = true;
            switch (spec[i]) {
            case 'u': who |= S_ISUID | S_IRWXU; break;
            case 'g': who |= S_ISGID | S_IRWXG; break;
            case 'o': who |= S_ISVTX | S_IRWXO; break;
            default: who |= 07777; break;
            }
        }
        mode_t mask = who_given ? who : static_cast<mode_t>(07777 & ~cmask);
        if (i >= spec.size() || !std::strchr("+-=", spec[i]))
            return std::nullopt;
        while (i < spec.size() && std::strchr("+-=", spec[i])) {
            char op = spec[i++];
            mode_t perm = 0;
            if (i < spec.size() && std::strchr("ugo", spec[i])) {
                mode_t bits = spec[i] == 'u'   ? (mode >> 6) & 7
                              : spec[i] == 'g' ? (mode >> 3) & 7
                                               : mode & 7;
                perm = static_cast<mode_t>(bits << 6 | bits << 3 | bits);
                ++i;
            } else {
                for (; i < spec.size() && std::strchr("rwxXst", spec[i]); ++i) {
                    switch (spec[i]) {
                    case 'r': perm |= 0444; break;
                    case 'w': perm |= 0222; break;
                    case 'x': perm |= 0111; break;
                    case 'X':
                        if (is_dir || (mode & 0111))
                            perm |= 0111;
                        break;
                    case 's': perm |= S_ISUID | S_ISGID; break;
                    case 't': perm |= S_ISVTX; break;
                    default: break;
                    }
                }
            }
            mode_t m = mask | (who_given ? 0 : static_cast<mode_t>(S_ISUID | S_ISGID | S_ISVTX));
            switch (op) {
            case '+': mode |= perm & m; break;
            case '-': mode &= ~(perm & m); break;
            default:
                mode &= ~(who_given ? who : static_cast<mode_t>(07777));
                mode |= perm & m;
                break;
            }
        }
        if (i == spec.size())
            break;
        if (spec[i] != ',')
            return std::nullopt;
        ++i;
    }
    return mode;
}

std::optional<std::string> second_operand(std::string_view operand) {
    if (operand.starts_with("2:"))
        return std::string(operand.substr(2));
    return std::nullopt;
}

bool SecondImage::open(Ctx& c, bool writable) {
    if (image.empty()) {
        c.warnx("2:PATH operands need a second image (-I IMAGE2)");
        return false;
    }
    uk::MountOptions mo;
    mo.type = type;
    mo.read_only = !writable;
    auto m = uk::Mount::open(image, mo);
    if (!m) {
        c.warnx("{}: {}", image, m.error().describe());
        return false;
    }
    mount.emplace(std::move(*m));
    return true;
}

std::optional<std::string> host_operand(std::string_view operand) {
    if (operand.starts_with("host:"))
        return std::string(operand.substr(5));
    return std::nullopt;
}

}  // namespace fsu
