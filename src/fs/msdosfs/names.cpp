// File names: which names FAT can hold, short (8.3) names made as Windows makes them (the
// basis name, lower-case bits for all-lower parts, "~N" numeric tails), short names shown with
// their case bits, and UTF-8 <-> UTF-16 for long names. Facts: the Microsoft FAT specification
// 1.03, sections 6 and 7 ("Basis-Name Generation Algorithm", "Numeric-Tail Generation") and the
// NT case bits of DIR_NTRes as Windows NT and mtools use them.
//
// Short-name bytes above 0x7F (an OEM code page) are shown as the Latin-1 characters of the
// same value; names we make never contain them (they become '_').
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/utf8.hpp"
#include "fs/msdosfs/node.hpp"

namespace uk::msdosfs {

namespace {

bool is_lower(char16_t c) {
    return c >= u'a' && c <= u'z';
}
bool is_upper(char16_t c) {
    return c >= u'A' && c <= u'Z';
}
char16_t to_upper(char16_t c) {
    return is_lower(c) ? static_cast<char16_t>(c - 32) : c;
}

// Characters a long name cannot hold (spec section 7).
bool bad_long_char(char16_t c) {
    return c < 0x20 || c == 0x7F ||
           std::u16string_view(u"\"*/:<>?\\|").find(c) != std::u16string_view::npos;
}

// Characters a short name may hold besides letters and digits.
bool short_char(char16_t c) {
    if (is_upper(c) || (c >= u'0' && c <= u'9'))
        return true;
    return std::u16string_view(u"$%'-_@~`!(){}^#&").find(c) != std::u16string_view::npos;
}

// Whether `part` is all lower case (letters), all upper, or neither.
enum class Case { none, lower, upper, mixed };
Case case_of(std::u16string_view part) {
    bool lo = false, up = false;
    for (char16_t c : part) {
        lo |= is_lower(c);
        up |= is_upper(c);
    }
    return lo && up ? Case::mixed : lo ? Case::lower : up ? Case::upper : Case::none;
}

// The name as an exact 8.3 name (letters in one case per part): fills `plan` and says yes.
bool exact_short(const std::u16string& n, NamePlan& plan) {
    const auto dot = n.find(u'.');
    const std::u16string_view base = std::u16string_view(n).substr(0, dot);
    const std::u16string_view ext = dot == std::u16string::npos
                                        ? std::u16string_view{}
                                        : std::u16string_view(n).substr(dot + 1);
    if (base.empty() || base.size() > 8 || ext.size() > 3)
        return false;
    if (dot != std::u16string::npos && (ext.empty() || ext.find(u'.') != ext.npos))
        return false;
    for (std::u16string_view part : {base, ext})
        for (char16_t c : part)
            if (!short_char(to_upper(c)))
                return false;
    const Case cb = case_of(base), ce = case_of(ext);
    std::memset(plan.short_name, ' ', 11);
    for (std::size_t i = 0; i < base.size(); ++i)
        plan.short_name[i] = static_cast<std::uint8_t>(to_upper(base[i]));
    for (std::size_t i = 0; i < ext.size(); ++i)
        plan.short_name[8 + i] = static_cast<std::uint8_t>(to_upper(ext[i]));
    if (cb == Case::mixed || ce == Case::mixed) {
        plan.needs_lfn = true;  // the case needs the long name; the basis is lossless
        return true;
    }
    plan.ntres = static_cast<std::uint8_t>((cb == Case::lower ? ntres_lower_base : 0) |
                                           (ce == Case::lower ? ntres_lower_ext : 0));
    return true;
}

// The basis name of section 7; returns whether the conversion lost anything.
bool basis_name(const std::u16string& n, std::uint8_t (&out)[11]) {
    bool lossy = false;
    std::memset(out, ' ', 11);
    std::size_t start = 0;
    while (start < n.size() && (n[start] == u'.' || n[start] == u' '))
        ++start;
    lossy |= start != 0;
    const auto last_dot = n.rfind(u'.');
    const std::size_t base_end =
        last_dot != std::u16string::npos && last_dot >= start ? last_dot : n.size();
    auto put = [&](std::size_t from, std::size_t to, std::size_t at, std::size_t room) {
        std::size_t k = 0;
        for (std::size_t i = from; i < to; ++i) {
            char16_t c = to_upper(n[i]);
            if (c == u' ' || c == u'.') {
                lossy = true;
                continue;
            }
            if (!short_char(c)) {
                c = u'_';
                lossy = true;
            }
            if (k == room) {
                lossy = true;
                break;
            }
            out[at + k++] = static_cast<std::uint8_t>(c);
        }
        return k;
    };
    if (put(start, base_end, 0, 8) == 0) {
        out[0] = '_';
        lossy = true;
    }
    if (base_end < n.size())
        put(base_end + 1, n.size(), 8, 3);
    return lossy;
}

}  // namespace

bool utf16_to_utf8(const std::u16string& in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        char32_t c = in[i];
        if (c >= 0xD800 && c <= 0xDBFF) {
            if (i + 1 >= in.size() || in[i + 1] < 0xDC00 || in[i + 1] > 0xDFFF)
                return false;
            c = 0x10000 + ((c - 0xD800) << 10) + (in[++i] - 0xDC00);
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            return false;
        }
        append_utf8(out, c);
    }
    return true;
}

bool utf8_to_utf16(std::string_view in, std::u16string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size();) {
        const auto c = decode_utf8(in, i);
        if (!c)
            return false;
        append_utf16(out, c->code);
        i += c->length;
    }
    return true;
}

bool names_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z')
            x = static_cast<char>(x - 32);
        if (y >= 'a' && y <= 'z')
            y = static_cast<char>(y - 32);
        if (x != y)
            return false;
    }
    return true;
}

std::string display_short_name(const DirEntryRaw& raw) {
    std::string out;
    auto part = [&](std::size_t from, std::size_t len, bool lower) {
        std::size_t end = from + len;
        while (end > from && raw.DIR_Name[end - 1] == ' ')
            --end;
        for (std::size_t i = from; i < end; ++i) {
            std::uint8_t c = raw.DIR_Name[i];
            if (i == 0 && c == dir_kanji_e5)
                c = dir_free;
            if (lower && c >= 'A' && c <= 'Z')
                c = static_cast<std::uint8_t>(c + 32);
            append_utf8(out, c);
        }
        return end > from;
    };
    part(0, 8, (raw.DIR_NTRes & ntres_lower_base) != 0);
    std::string ext;
    std::swap(out, ext);
    const bool has_ext = part(8, 3, (raw.DIR_NTRes & ntres_lower_ext) != 0);
    std::swap(out, ext);
    if (has_ext)
        out += "." + ext;
    return out;
}

Result<NamePlan> plan_name(std::string_view name, bool shortname_only,
                           const std::function<bool(const std::uint8_t (&)[11])>& taken) {
    NamePlan plan;
    if (!utf8_to_utf16(name, plan.long_name))
        return Error::sys(EINVAL, fmt::format("msdos: name \"{}\" is not valid UTF-8", name));
    if (plan.long_name.size() > name_max)
        return Error::sys(ENAMETOOLONG, "msdos: a name holds at most 255 UTF-16 units");
    for (char16_t c : plan.long_name)
        if (bad_long_char(c))
            return Error::sys(EINVAL, fmt::format("msdos: name \"{}\" holds a character FAT "
                                                  "cannot store",
                                                  name));
    if (name.back() == '.' || name.back() == ' ')
        return Error::sys(EINVAL, fmt::format("msdos: name \"{}\" ends in a dot or a space, "
                                              "which FAT drops",
                                              name));
    bool lossy = false;
    if (!exact_short(plan.long_name, plan)) {
        plan.needs_lfn = true;
        lossy = basis_name(plan.long_name, plan.short_name);
    }
    if (shortname_only)
        plan.needs_lfn = false;
    if (!lossy && !taken(plan.short_name))
        return plan;
    if (!plan.needs_lfn && !shortname_only)
        return Error::sys(EEXIST);  // an exact 8.3 name that is taken
    plan.ntres = 0;
    std::size_t base_len = 8;
    while (base_len > 0 && plan.short_name[base_len - 1] == ' ')
        --base_len;
    for (std::uint32_t n = 1; n < 1'000'000; ++n) {
        const std::string tail = fmt::format("~{}", n);
        std::uint8_t cand[11];
        std::memcpy(cand, plan.short_name, 11);
        const std::size_t keep = std::min(base_len, 8 - tail.size());
        std::memset(cand, ' ', 8);
        std::memcpy(cand, plan.short_name, keep);
        std::memcpy(cand + keep, tail.data(), tail.size());
        if (!taken(cand)) {
            std::memcpy(plan.short_name, cand, 11);
            return plan;
        }
    }
    return Error::sys(ENOSPC, "msdos: no free short name");
}

}  // namespace uk::msdosfs
