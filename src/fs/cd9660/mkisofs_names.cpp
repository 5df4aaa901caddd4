// Names of the trees the image builder writes (see mkisofs.hpp). Facts: ECMA-119 7.4-7.6
// (d-characters, file identifiers, separators and versions, level 2 lengths); the Joliet
// specification (UCS-2 big-endian, at most 64 characters, '*', '/', ':', ';', '?' and '\'
// not allowed).
#include <string>
#include <vector>

#include "base/utf8.hpp"
#include "fs/cd9660/mkisofs.hpp"

namespace uk::cd9660 {

namespace {

constexpr std::size_t iso_file_chars = 30;  // name + extension (level 2)
constexpr std::size_t iso_dir_chars = 31;
constexpr std::size_t iso_ext_chars = 8;  // ours: keeps room for the name
constexpr std::size_t joliet_units = 64;
constexpr std::size_t joliet_ext_units = 16;

char d_character(unsigned char c) {
    if (c >= 'a' && c <= 'z')
        return static_cast<char>(c - 'a' + 'A');
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
        return static_cast<char>(c);
    return '_';
}

std::string d_characters(std::string_view s, std::size_t max) {
    std::string out;
    for (const char c : s) {
        if (out.size() == max)
            break;
        out += d_character(static_cast<unsigned char>(c));
    }
    return out;
}

// A name made unique: `base` keeps as much of itself as leaves room for a number.
template <class Str, class Make>
Str make_unique_name(const Str& base, std::size_t limit, std::set<std::string>& taken,
                     Make&& key_of) {
    std::string key = key_of(base);
    if (taken.insert(key).second)
        return base;
    for (unsigned n = 1;; ++n) {
        const std::string digits = std::to_string(n);
        Str b = base.substr(0, std::min(base.size(), limit - std::min(limit, digits.size())));
        for (const char c : digits)
            b.push_back(static_cast<typename Str::value_type>(c));
        if (taken.insert(key_of(b)).second)
            return b;
    }
}

// UTF-8 -> code points; bytes that are not UTF-8 become '_'.
std::vector<std::uint32_t> code_points(std::string_view s) {
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = decode_utf8(s, i);
        out.push_back(c ? c->code : U'_');
        i += c ? c->length : 1;
    }
    return out;
}

std::u16string utf16(const std::vector<std::uint32_t>& cps) {
    std::u16string out;
    for (std::uint32_t c : cps) {
        if (c < 0x20 || c == '*' || c == '/' || c == ':' || c == ';' || c == '?' || c == '\\')
            c = '_';
        append_utf16(out, c);
    }
    return out;
}

// At most n units, never half a surrogate pair.
std::u16string cut16(const std::u16string& s, std::size_t n) {
    if (s.size() <= n)
        return s;
    std::u16string out = s.substr(0, n);
    if (!out.empty() && out.back() >= 0xD800 && out.back() < 0xDC00)
        out.pop_back();
    return out;
}

std::string be_bytes(const std::u16string& s) {
    std::string out;
    for (const char16_t u : s) {
        out += static_cast<char>(u >> 8);
        out += static_cast<char>(u & 0xFF);
    }
    return out;
}

}  // namespace

std::string iso_identifier(std::string_view host_name, bool is_dir, std::set<std::string>& taken) {
    auto same = [](const std::string& s) { return s; };
    if (is_dir) {
        std::string base = d_characters(host_name, iso_dir_chars);
        if (base.empty())
            base.push_back('_');  // (not `= "_"`: g++ 12 -O3 -Wrestrict false positive)
        return make_unique_name(base, iso_dir_chars, taken, same);
    }
    const std::size_t dot = host_name.rfind('.');
    std::string base, ext;
    if (dot == std::string_view::npos || dot == 0) {
        base = d_characters(host_name, iso_file_chars);
    } else {
        ext = d_characters(host_name.substr(dot + 1), iso_ext_chars);
        base = d_characters(host_name.substr(0, dot), iso_file_chars - ext.size());
    }
    if (base.empty())
        base.push_back('_');  // (not `= "_"`: g++ 12 -O3 -Wrestrict false positive)
    const std::size_t limit = iso_file_chars - ext.size();
    base = make_unique_name(base, limit, taken,
                            [&](const std::string& b) { return ext.empty() ? b : b + "." + ext; });
    return base + "." + ext + ";1";
}

std::string joliet_identifier(std::string_view host_name, bool is_dir,
                              std::set<std::string>& taken) {
    std::u16string name = utf16(code_points(host_name));
    // Readers drop a '.' before ";1" (as they do in ISO 9660 names): keep a last dot visible.
    if (!is_dir && !name.empty() && name.back() == u'.')
        name.back() = u'_';
    const std::size_t limit = is_dir ? joliet_units : joliet_units - 2;  // files: ";1"
    std::u16string base = name, ext;
    const std::size_t dot = name.rfind(u'.');
    if (!is_dir && dot != std::u16string::npos && dot != 0 &&
        name.size() - dot <= joliet_ext_units) {
        base = name.substr(0, dot);
        ext = name.substr(dot);  // with its dot
    }
    base = cut16(base, limit - ext.size());
    if (base.empty() && ext.empty())
        base.push_back(u'_');
    base = make_unique_name(base, limit - ext.size(), taken,
                            [&](const std::u16string& b) { return be_bytes(b + ext); });
    std::string out = be_bytes(base + ext);
    if (!is_dir)
        out += std::string("\0;\0"
                           "1",
                           4);
    return out;
}

}  // namespace uk::cd9660
