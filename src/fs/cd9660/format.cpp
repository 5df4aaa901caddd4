// Directory record parsing and ISO 9660 dates (see format.hpp).
#include "fs/cd9660/format.hpp"

#include <fmt/format.h>

namespace uk::cd9660 {

namespace {

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), after H. Hinnant's civil algorithm.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? static_cast<unsigned>(-3) : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

timespec make_time(std::int64_t year, unsigned month, unsigned day, unsigned hour, unsigned min,
                   unsigned sec, int gmtoff_quarters, long nsec) {
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return timespec{};
    std::int64_t t = days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
    if (gmtoff_quarters >= -48 && gmtoff_quarters <= 52)  // 9.1.5: GMT-12 to GMT+13
        t -= std::int64_t{gmtoff_quarters} * 15 * 60;
    return timespec{static_cast<time_t>(t), nsec};
}

unsigned digits(std::span<const std::byte> b, std::size_t off, std::size_t n, bool& ok) {
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(b[off + i]);
        if (c < '0' || c > '9') {
            ok = false;
            return 0;
        }
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace

timespec time7(std::span<const std::byte> b) {
    if (b.size() < 7)
        return timespec{};
    return make_time(1900 + std::int64_t{u8_at(b, 0)}, u8_at(b, 1), u8_at(b, 2), u8_at(b, 3),
                     u8_at(b, 4), u8_at(b, 5), static_cast<std::int8_t>(u8_at(b, 6)), 0);
}

timespec time17(std::span<const std::byte> b) {
    if (b.size() < 17)
        return timespec{};
    bool ok = true;
    const unsigned year = digits(b, 0, 4, ok), month = digits(b, 4, 2, ok),
                   day = digits(b, 6, 2, ok), hour = digits(b, 8, 2, ok),
                   min = digits(b, 10, 2, ok), sec = digits(b, 12, 2, ok),
                   hundredths = digits(b, 14, 2, ok);
    if (!ok || year == 0)
        return timespec{};
    return make_time(year, month, day, hour, min, sec, static_cast<std::int8_t>(u8_at(b, 16)),
                     static_cast<long>(hundredths) * 10'000'000L);
}

Result<Record> parse_record(std::span<const std::byte> bytes, std::string_view where) {
    if (bytes.empty())
        return Error::corrupt(where, "directory record: no room");
    Record r;
    r.length = u8_at(bytes, dr_length);
    if (r.length < dr_min_length || r.length > bytes.size())
        return Error::corrupt(where, fmt::format("directory record length {} is not from {} to "
                                                 "the {} bytes left in its sector",
                                                 r.length, dr_min_length, bytes.size()));
    const std::uint8_t name_len = u8_at(bytes, dr_name_len);
    if (name_len == 0 || dr_name + name_len > r.length)
        return Error::corrupt(where, fmt::format("directory record name length {} does not fit "
                                                 "its record of {} bytes",
                                                 name_len, r.length));
    r.ext_attr_length = u8_at(bytes, dr_ext_attr_length);
    r.extent = le32_at(bytes, dr_extent);
    r.size = le32_at(bytes, dr_size);
    r.time = time7(bytes.subspan(dr_date, 7));
    r.flags = u8_at(bytes, dr_flags);
    r.unit_size = u8_at(bytes, dr_unit_size);
    r.gap_size = u8_at(bytes, dr_gap_size);
    r.name = bytes.subspan(dr_name, name_len);
    // The name is padded to an even offset (9.1.12); System Use follows.
    std::size_t su = dr_name + name_len;
    if ((name_len & 1) == 0)
        ++su;
    if (su < r.length)
        r.system_use = bytes.subspan(su, r.length - su);
    return r;
}

}  // namespace uk::cd9660
