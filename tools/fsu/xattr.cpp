// fsu getfattr and fsu setfattr: extended attributes, with the options and the output of the
// attr package's getfattr(1) and setfattr(1), so that their dumps can be compared and reused.
#include "fsu.hpp"

#include <regex.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace fsu {

namespace {

// getfattr's value encodings: text in double quotes (non-printing bytes, '"' and '\' as octal
// escapes), hexadecimal after 0x, base64 after 0s.
std::string encode(std::span<const std::byte> v, char how) {
    if (how == 'x') {
        std::string s = "0x";
        for (std::byte b : v)
            s += fmt::format("{:02x}", std::to_integer<unsigned>(b));
        return s;
    }
    if (how == 'b') {
        static const char* digits =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string s = "0s";
        for (std::size_t i = 0; i < v.size(); i += 3) {
            unsigned n = std::to_integer<unsigned>(v[i]) << 16;
            if (i + 1 < v.size())
                n |= std::to_integer<unsigned>(v[i + 1]) << 8;
            if (i + 2 < v.size())
                n |= std::to_integer<unsigned>(v[i + 2]);
            s += digits[(n >> 18) & 63];
            s += digits[(n >> 12) & 63];
            s += i + 1 < v.size() ? digits[(n >> 6) & 63] : '=';
            s += i + 2 < v.size() ? digits[n & 63] : '=';
        }
        return s;
    }
    std::string s = "\"";
    std::size_t n = v.size();
    if (n > 0 && v[n - 1] == std::byte{0})
        --n;  // a C string's terminator is not shown
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = std::to_integer<unsigned char>(v[i]);
        if (c == '"' || c == '\\' || !std::isprint(c))
            s += fmt::format("\\{:03o}", c);
        else
            s += static_cast<char>(c);
    }
    return s + "\"";
}

// The default encoding: text when every byte prints (a final NUL aside), else base64.
char choose(std::span<const std::byte> v) {
    for (std::size_t i = 0; i < v.size(); ++i) {
        const auto c = std::to_integer<unsigned char>(v[i]);
        if (!(std::isprint(c) || std::isspace(c) || (c == 0 && i + 1 == v.size())))
            return 'b';
    }
    return 't';
}

// setfattr's value syntax: 0x hex, 0s base64, "quoted text", else the text itself.
std::optional<std::vector<std::byte>> decode(std::string_view s) {
    std::vector<std::byte> out;
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
        if (s.size() % 2 != 0)
            return std::nullopt;
        for (std::size_t i = 0; i < s.size(); i += 2) {
            unsigned v = 0;
            if (std::sscanf(std::string(s.substr(i, 2)).c_str(), "%2x", &v) != 1 ||
                !std::isxdigit(static_cast<unsigned char>(s[i])) ||
                !std::isxdigit(static_cast<unsigned char>(s[i + 1])))
                return std::nullopt;
            out.push_back(static_cast<std::byte>(v));
        }
        return out;
    }
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 's' || s[1] == 'S')) {
        s.remove_prefix(2);
        unsigned acc = 0;
        int bits = 0;
        for (char c : s) {
            int v;
            if (c >= 'A' && c <= 'Z')
                v = c - 'A';
            else if (c >= 'a' && c <= 'z')
                v = c - 'a' + 26;
            else if (c >= '0' && c <= '9')
                v = c - '0' + 52;
            else if (c == '+')
                v = 62;
            else if (c == '/')
                v = 63;
            else if (c == '=')
                break;
            else
                return std::nullopt;
            acc = (acc << 6) | static_cast<unsigned>(v);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out.push_back(static_cast<std::byte>((acc >> bits) & 0xFF));
            }
        }
        return out;
    }
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"')
        s = s.substr(1, s.size() - 2);
    for (char c : s)
        out.push_back(static_cast<std::byte>(c));
    return out;
}

}  // namespace

int cmd_getfattr(Ctx& c, std::vector<std::string>& args) {
    std::string only, pattern = "^user\\.";
    bool dump = false;
    char how = 0;  // 0: chosen per value
    uk::Follow follow = uk::Follow::yes;
    Getopt g(args, "dhn:m:e:");
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case 'd': dump = true; break;
        case 'h': follow = uk::Follow::no; break;
        case 'n': only = g.arg(); break;
        case 'm': pattern = g.arg(); break;
        case 'e':
            how = std::string_view(g.arg()) == "hex"      ? 'x'
                  : std::string_view(g.arg()) == "base64" ? 'b'
                  : std::string_view(g.arg()) == "text"   ? 't'
                                                          : '?';
            if (how == '?') {
                c.warnx("unrecognized encoding `{}'", g.arg());
                return 2;
            }
            break;
        default:
            fmt::print(stderr, "usage: {} [-dh] [-n name] [-m pattern] [-e en] file...\n", c.prog);
            return 2;
        }
    }
    const std::vector<std::string> files = g.operands();
    if (files.empty()) {
        fmt::print(stderr, "usage: {} [-dh] [-n name] [-m pattern] [-e en] file...\n", c.prog);
        return 2;
    }
    regex_t re;
    if (pattern == "-")
        pattern = "";
    if (regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
        c.warnx("{}: bad pattern", pattern);
        return 2;
    }
    for (const std::string& f : files) {
        std::vector<std::string> names;
        if (!only.empty()) {
            names.push_back(only);
        } else {
            auto list = c.mnt->list_xattrs(f, follow);
            if (!list) {
                c.fail(f, list.error());
                continue;
            }
            for (std::string& n : *list)
                if (regexec(&re, n.c_str(), 0, nullptr, 0) == 0)
                    names.push_back(std::move(n));
            std::sort(names.begin(), names.end());
        }
        std::string out;
        for (const std::string& n : names) {
            auto v = c.mnt->get_xattr(f, n, follow);
            if (!v) {
                if (!only.empty() && v.error().errnum() == ENODATA)
                    c.warnx("{}: {}: No such attribute", f, n);
                else
                    c.fail(f, v.error());
                continue;
            }
            if (dump || !only.empty())
                out += fmt::format("{}={}\n", n, encode(*v, how ? how : choose(*v)));
            else
                out += n + "\n";
        }
        if (!out.empty())
            fmt::print("# file: {}\n{}\n", f.starts_with('/') ? f.substr(1) : f, out);
    }
    regfree(&re);
    return c.status;
}

int cmd_setfattr(Ctx& c, std::vector<std::string>& args) {
    std::string name, remove;
    std::optional<std::string> value;
    uk::Follow follow = uk::Follow::yes;
    auto usage = [&] {
        fmt::print(stderr, "usage: {} [-h] {{-n name [-v value] | -x name}} file...\n", c.prog);
        return 2;
    };
    Getopt g(args, "hn:v:x:");
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case 'h': follow = uk::Follow::no; break;
        case 'n': name = g.arg(); break;
        case 'v': value = g.arg(); break;
        case 'x': remove = g.arg(); break;
        default: return usage();
        }
    }
    const std::vector<std::string> files = g.operands();
    if (files.empty() || name.empty() == remove.empty())
        return usage();
    std::vector<std::byte> bytes;
    if (value) {
        auto d = decode(*value);
        if (!d) {
            c.warnx("{}: bad value", *value);
            return 2;
        }
        bytes = std::move(*d);
    }
    for (const std::string& f : files) {
        auto r = remove.empty()
                     ? c.mnt->set_xattr(f, name, bytes, uk::Mount::XattrMode::any, follow)
                     : c.mnt->remove_xattr(f, remove, follow);
        if (!r)
            c.fail(f, r.error());
    }
    return c.status;
}

}  // namespace fsu
