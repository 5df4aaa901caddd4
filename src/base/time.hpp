// Time helpers: the current time and conversions between timespec and timeval.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <sys/time.h>

namespace uk {

timespec now();
// SOURCE_DATE_EPOCH (reproducible builds) in seconds when it is set to a whole number.
std::optional<std::int64_t> source_date_epoch();
// Seconds since the epoch as ISO 8601 in UTC ("2026-11-24T19:55:51Z"); "-" for 0 (never).
std::string format_utc(std::int64_t seconds);
inline timespec to_timespec(const timeval& tv) {
    return {tv.tv_sec, static_cast<long>(tv.tv_usec) * 1000};
}
inline bool operator==(const timespec& a, const timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

}  // namespace uk
