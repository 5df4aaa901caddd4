// Partition selector parsing. Facts from NetBSD lib/libukfs/ukfs.c (ukfs_part_probe, 1.58):
// "%PART:" anywhere is refused with ENODEV; a %DISKLABEL letter outside 'a'..'a'+22-1 is
// EINVAL; %OFFSET needs a ',' and a closing '%' (EINVAL), a leading '-' is ERANGE, a value that
// strtouq saturates is ERANGE, and anything left after the digits is EADDRNOTAVAIL; an empty
// number reads as 0 (strtouq of ""). Where we differ, and why:
//   - NetBSD ignores %OFFSET strings shorter than UKFS_OFFSET_MINLEN ("%OFFSET:512,512%"), so
//     "%OFFSET:0,1%" silently meant the whole device there; we parse every length.
//   - NetBSD looks for the magic anywhere (strstr) and ignores text after the closing '%'; a
//     selector here is the last magic in the path and must end it (EINVAL otherwise), so a
//     typo cannot fall back to the whole device.
//   - NetBSD treats a malformed %DISKLABEL (e.g. "%DISKLABEL:ab%") as no selector; we say
//     EINVAL for the same reason.
//   - Offsets must fit in off_t (they end up in fcntl locks): larger is ERANGE.
#include "io/partition/selector.hpp"

#include <array>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace uk::io {

namespace {

// Largest byte offset or size: off_t's maximum (struct flock's l_start and l_len).
constexpr std::uint64_t max_byte_offset =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
// Largest MBR/GPT partition number (blkid reports them as int).
constexpr std::uint64_t max_part_number =
    static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());

Error selector_error(int err, std::string_view selector, std::string_view what) {
    return Error::sys(err, fmt::format("partition selector \"{}\": {}", selector, what));
}

enum class NumberFault { none, empty, negative, too_large, garbage };

struct Number {
    std::uint64_t value = 0;
    NumberFault fault = NumberFault::none;
};

// Decimal digits only. The order of the checks follows strtouq as ukfs.c uses it: a sign
// first, then the digits (overflow is reported even if garbage follows), then leftovers.
Number scan_number(std::string_view text, std::uint64_t max) {
    Number n;
    if (text.empty()) {
        n.fault = NumberFault::empty;
        return n;
    }
    if (text.front() == '-') {
        n.fault = NumberFault::negative;
        return n;
    }
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (n.value > (max - digit) / 10) {
            n.fault = NumberFault::too_large;
            return n;
        }
        n.value = n.value * 10 + digit;
    }
    if (i != text.size())
        n.fault = NumberFault::garbage;
    return n;
}

// One %OFFSET field. NetBSD: empty is 0, '-' is ERANGE, saturation is ERANGE, leftovers are
// EADDRNOTAVAIL ("creative ;)" says its comment).
Result<std::uint64_t> offset_field(std::string_view sel, std::string_view field,
                                   std::string_view text) {
    const Number n = scan_number(text, max_byte_offset);
    switch (n.fault) {
    case NumberFault::none:
    case NumberFault::empty:
        return n.value;
    case NumberFault::negative:
        return selector_error(ERANGE, sel, fmt::format("{} \"{}\" is negative", field, text));
    case NumberFault::too_large:
        return selector_error(ERANGE, sel,
                              fmt::format("{} \"{}\" is larger than {}", field, text,
                                          max_byte_offset));
    case NumberFault::garbage:
        break;
    }
    return selector_error(EADDRNOTAVAIL, sel,
                          fmt::format("{} \"{}\" has trailing garbage after the number", field,
                                      text));
}

// An MBR or GPT partition number: 1 .. INT32_MAX. `hint` follows the "not a number" message.
Result<std::uint32_t> part_number(std::string_view sel, std::string_view text,
                                  std::string_view hint = {}) {
    const Number n = scan_number(text, max_part_number);
    switch (n.fault) {
    case NumberFault::none:
        if (n.value == 0)
            return selector_error(EINVAL, sel, "partitions are numbered from 1");
        return static_cast<std::uint32_t>(n.value);
    case NumberFault::negative:
        return selector_error(ERANGE, sel, fmt::format("partition number \"{}\" is negative", text));
    case NumberFault::too_large:
        return selector_error(ERANGE, sel,
                              fmt::format("partition number \"{}\" is too large", text));
    case NumberFault::empty:
    case NumberFault::garbage:
        break;
    }
    return selector_error(EINVAL, sel,
                          fmt::format("\"{}\" is not a partition number{}", text, hint));
}

Result<PartSpec> parse_disklabel(std::string_view sel, std::string_view inner) {
    if (inner.size() != 1 || inner[0] < 'a' ||
        inner[0] >= static_cast<char>('a' + disklabel_max_partitions))
        return selector_error(EINVAL, sel,
                              fmt::format("\"{}\" is not a partition letter (a to v)", inner));
    return DisklabelSelector{inner[0]};
}

Result<PartSpec> parse_offset(std::string_view sel, std::string_view inner) {
    const std::size_t comma = inner.find(',');
    if (comma == std::string_view::npos)
        return selector_error(EINVAL, sel, "missing ',' between start and size");
    OffsetSelector o;
    o.offset = UKFS_TRY(offset_field(sel, "start", inner.substr(0, comma)));
    o.size = UKFS_TRY(offset_field(sel, "size", inner.substr(comma + 1)));
    if (o.size > max_byte_offset - o.offset)
        return selector_error(ERANGE, sel,
                              fmt::format("start + size is larger than {}", max_byte_offset));
    return o;
}

Result<PartSpec> parse_gpt(std::string_view sel, std::string_view inner) {
    if (inner.starts_with(gpt_name_prefix)) {
        std::string_view name = inner.substr(gpt_name_prefix.size());
        if (name.empty())
            return selector_error(EINVAL, sel, "empty GPT partition name");
        return GptNameSelector{std::string(name)};
    }
    return GptSelector{
        UKFS_TRY(part_number(sel, inner, " (a name is selected by %GPT:name=LABEL%)"))};
}

struct Found {
    std::size_t pos = 0;
    std::string_view magic;
};

// The last selector magic in the path: a selector sits at the end.
std::optional<Found> find_magic(std::string_view devpath) {
    static constexpr std::array magics{disklabel_scanmagic, offset_scanmagic, mbr_scanmagic,
                                       gpt_scanmagic};
    std::optional<Found> best;
    for (std::string_view m : magics) {
        const std::size_t p = devpath.rfind(m);
        if (p != std::string_view::npos && (!best || p > best->pos))
            best = Found{p, m};
    }
    return best;
}

}  // namespace

Result<PartSpec> parse_selector(std::string_view devpath, std::size_t* cut_at) {
    if (devpath.find(part_scanmagic) != std::string_view::npos)
        return Error::sys(ENODEV, fmt::format("\"{}\": %PART is deprecated, use %DISKLABEL "
                                              "instead (as NetBSD's libukfs says)",
                                              devpath));
    const std::optional<Found> found = find_magic(devpath);
    if (!found) {
        if (cut_at)
            *cut_at = devpath.size();
        return WholeDevice{};
    }
    const std::string_view sel = devpath.substr(found->pos);
    const std::string_view body = sel.substr(found->magic.size());
    if (body.empty() || body.back() != '%')
        return selector_error(EINVAL, sel,
                              body.find('%') == std::string_view::npos
                                  ? "missing closing '%'"
                                  : "text after the closing '%' (a selector ends the path)");
    const std::string_view inner = body.substr(0, body.size() - 1);

    PartSpec spec;
    if (found->magic == disklabel_scanmagic)
        spec = UKFS_TRY(parse_disklabel(sel, inner));
    else if (found->magic == offset_scanmagic)
        spec = UKFS_TRY(parse_offset(sel, inner));
    else if (found->magic == mbr_scanmagic)
        spec = MbrSelector{UKFS_TRY(part_number(sel, inner))};
    else
        spec = UKFS_TRY(parse_gpt(sel, inner));
    if (cut_at)
        *cut_at = found->pos;
    return spec;
}

namespace {

struct SelectorText {
    std::string operator()(const WholeDevice&) const { return {}; }
    std::string operator()(const DisklabelSelector& d) const {
        return fmt::format("{}{}%", disklabel_scanmagic, d.letter);
    }
    std::string operator()(const OffsetSelector& o) const {
        return fmt::format("{}{},{}%", offset_scanmagic, o.offset, o.size);
    }
    std::string operator()(const MbrSelector& m) const {
        return fmt::format("{}{}%", mbr_scanmagic, m.number);
    }
    std::string operator()(const GptSelector& g) const {
        return fmt::format("{}{}%", gpt_scanmagic, g.number);
    }
    std::string operator()(const GptNameSelector& g) const {
        return fmt::format("{}{}{}%", gpt_scanmagic, gpt_name_prefix, g.name);
    }
};

}  // namespace

std::string to_string(const PartSpec& spec) {
    return std::visit(SelectorText{}, spec);
}

}  // namespace uk::io
