// Time helpers.
#include "base/time.hpp"

#include <cerrno>
#include <cstdlib>

namespace uk {

timespec now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

std::optional<std::int64_t> source_date_epoch() {
    const char* s = std::getenv("SOURCE_DATE_EPOCH");
    if (s == nullptr || *s < '0' || *s > '9')
        return std::nullopt;
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return std::nullopt;
    return v;
}

std::string format_utc(std::int64_t seconds) {
    if (seconds == 0)
        return "-";
    const time_t t = static_cast<time_t>(seconds);
    tm parts{};
    char buf[64];
    if (gmtime_r(&t, &parts) == nullptr ||
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &parts) == 0)
        return std::to_string(seconds);
    return buf;
}

}  // namespace uk
